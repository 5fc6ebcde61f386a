package fhirclient

import (
	"html"
	"strconv"
	"strings"
)

// The renderers turn FHIR values into cell text by looking at their shape
// (a CodeableConcept has coding or text, a Quantity a numeric value, a
// Period start or end, ...), never at their declared type. That is what
// lets one column description serve STU3 and R4: where the releases differ
// in type (AllergyIntolerance.clinicalStatus is a code in STU3 and a
// CodeableConcept in R4) both shapes render to the same text.

// maxListed bounds how many values one cell lists.
const maxListed = 8

// kindOf returns the kind of n, kNull for nil.
func kindOf(n *node) kind {
	if n == nil {
		return kNull
	}
	return n.k
}

// renderValues renders a column's values.
func renderValues(ns []*node, c *Column) string {
	switch len(ns) {
	case 0:
		return ""
	case 1:
		return renderOne(ns[0], c)
	}
	if c.First {
		for _, n := range ns {
			if s := renderOne(n, c); s != "" {
				return s
			}
		}
		return ""
	}
	if s, ok := renderComponents(ns); ok {
		return s
	}
	parts := make([]string, 0, len(ns))
outer:
	for _, n := range ns {
		s := renderOne(n, c)
		if s == "" {
			continue
		}
		for _, p := range parts {
			if p == s {
				continue outer
			}
		}
		if len(parts) == maxListed {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// renderOne renders one value for a column.
func renderOne(n *node, c *Column) string {
	switch n.k {
	case kString, kNumber, kBool:
		if c.Map != nil {
			if m, ok := c.Map[n.s]; ok {
				return m
			}
		}
		switch c.Kind {
		case KindDate:
			return formatDate(n.s)
		case KindSize:
			if n.k == kString {
				return formatSize(base64Size(n.s))
			}
		case KindNarrative:
			return narrativeText(n.s)
		}
	case kObject:
		if c.Kind == KindNarrative {
			return narrativeText(n.str("div"))
		}
	}
	return render(n)
}

// render renders any FHIR value by its shape.
func render(n *node) string {
	switch n.k {
	case kString:
		if looksLikeDateTime(n.s) {
			return formatDate(n.s)
		}
		return n.s
	case kNumber:
		return n.s
	case kBool:
		if n.s == "true" {
			return "yes"
		}
		return "no"
	case kArray:
		var parts []string
		for i := range n.kids {
			if s := render(&n.kids[i]); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	case kObject:
		return renderObject(n)
	}
	return ""
}

func renderObject(n *node) string {
	has := func(k string) bool { return n.get(k) != nil }
	switch {
	case has("coding"):
		return renderCodeable(n)
	case kindOf(n.get("value")) == kNumber:
		return renderQuantity(n)
	case has("start") || has("end"):
		start, end := formatDate(n.str("start")), formatDate(n.str("end"))
		switch {
		case end == "":
			return start
		case start == "":
			return "– " + end
		case start == end:
			return start
		}
		return start + " – " + end
	case has("low") || has("high"):
		lo, hi := n.get("low"), n.get("high")
		switch {
		case hi == nil:
			return "≥ " + renderQuantity(lo)
		case lo == nil:
			return "≤ " + renderQuantity(hi)
		}
		ls, hs := renderQuantity(lo), renderQuantity(hi)
		if u := quantityUnit(lo); u != "" && u == quantityUnit(hi) {
			ls = strings.TrimSpace(strings.TrimSuffix(ls, u))
		}
		return ls + "–" + hs
	case has("numerator") || has("denominator"):
		return renderQuantity(n.get("numerator")) + " / " + renderQuantity(n.get("denominator"))
	case has("family") || has("given"):
		return renderName(n)
	case has("line") || has("postalCode") || has("city"):
		return renderAddress(n)
	case has("reference") || (has("display") && !has("code")):
		if d := n.str("display"); d != "" {
			return d
		}
		if r := n.str("reference"); r != "" {
			return r
		}
		return n.get("identifier").str("value")
	case has("code"):
		return renderCoding(n)
	case has("system") && has("value"):
		return n.str("value") // Identifier, ContactPoint
	case has("contentType") || has("title") || has("url") && has("size"):
		if t := n.str("title"); t != "" {
			return t
		}
		if u := n.str("url"); u != "" {
			return u
		}
		return n.str("contentType")
	case has("div"):
		return narrativeText(n.str("div"))
	case has("identifier"):
		return n.get("identifier").str("value") // a logical reference
	}
	for i := range n.kids { // an extension, component or anything with value[x]
		if k := n.kids[i].key; len(k) > 5 && strings.HasPrefix(k, "value") && isChoiceSuffix(k[5:]) {
			return render(&n.kids[i])
		}
	}
	if t := n.str("text"); t != "" {
		return t // Dosage, Annotation, a CodeableConcept with text only
	}
	if n.get("value") != nil {
		return render(n.get("value"))
	}
	return clip(n.s, 80)
}

// renderCodeable renders a CodeableConcept: the first coding's display,
// else the text, else the first code with its system's short name. A
// bare Coding or code renders too.
func renderCodeable(n *node) string {
	if n == nil {
		return ""
	}
	if n.k == kString {
		return n.s
	}
	codings := n.get("coding")
	var first *node
	display := ""
	codings.each(func(c *node) {
		if first == nil {
			first = c
		}
		if display == "" {
			display = strings.TrimSpace(c.str("display"))
		}
	})
	if display != "" {
		return display
	}
	if t := strings.TrimSpace(n.str("text")); t != "" {
		return t
	}
	if first != nil {
		return renderCoding(first)
	}
	if n.get("code") != nil {
		return renderCoding(n)
	}
	return ""
}

// renderCoding renders a Coding: its display, a display the client knows
// for the code, or the code with a short name for its system.
func renderCoding(c *node) string {
	if d := strings.TrimSpace(c.str("display")); d != "" {
		return d
	}
	system, code := c.str("system"), c.str("code")
	if code == "" {
		return ""
	}
	if d := knownDisplay(system, code); d != "" {
		return d
	}
	if s := ShortSystem(system); s != "" {
		return s + " " + code
	}
	return code
}

// ShortSystem returns a short name for a code system or identifier system
// (SNOMED, LOINC, ODS, ...), or "" for the FHIR specification's own code
// systems and systems it has no name for that are better left out.
func ShortSystem(system string) string {
	s := strings.ToLower(strings.TrimRight(system, "/"))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	switch {
	case s == "":
		return ""
	case strings.HasPrefix(s, "snomed.info/sct"):
		return "SNOMED"
	case s == "loinc.org":
		return "LOINC"
	case strings.HasPrefix(s, "hl7.org/fhir/sid/icd-10"):
		return "ICD-10"
	case strings.HasPrefix(s, "hl7.org/fhir/sid/icd-9"):
		return "ICD-9"
	case s == "read.info/readv2":
		return "Read"
	case s == "read.info/ctv3":
		return "CTV3"
	case strings.HasPrefix(s, "dmd.nhs.uk") || strings.HasSuffix(s, "/dmd") || strings.Contains(s, "/id/dmd"):
		return "dm+d"
	case s == "unitsofmeasure.org":
		return "UCUM"
	case strings.Contains(s, "rxnorm"):
		return "RxNorm"
	case strings.HasPrefix(s, "hl7.org/fhir/") || strings.HasPrefix(s, "terminology.hl7.org/"):
		return ""
	case strings.HasPrefix(s, "urn:oid:") || strings.HasPrefix(s, "urn:uuid:"):
		return ""
	}
	switch {
	case systemIs(system, "ods-organization-code") || systemIs(system, "ods-organisation-code") || systemIs(system, "ods-site-code"):
		return "ODS"
	case systemIs(system, "sds-user-id") || systemIs(system, "sds-role-profile-id"):
		return "SDS"
	case systemIs(system, "nhs-number"):
		return "NHS"
	}
	seg := strings.TrimRight(system, "/")
	if i := strings.LastIndexByte(seg, '/'); i >= 0 {
		seg = seg[i+1:]
	}
	seg = strings.TrimPrefix(seg, "CareConnect-")
	if i := strings.LastIndexByte(seg, '-'); i > 0 && allDigits(seg[i+1:]) {
		seg = seg[:i]
	}
	return seg
}

// knownDisplays gives readable text for Care Connect codes that the CCRI
// and other servers often send without a display.
var knownDisplays = []struct {
	system string // matched with systemIs
	codes  map[string]string
}{
	{"NHSNumberVerificationStatus", map[string]string{
		"01": "Number present and verified",
		"02": "Number present but not traced",
		"03": "Trace required",
		"04": "Trace attempted - No match or multiple match found",
		"05": "Trace needs to be resolved - (NHS Number or patient detail conflict)",
		"06": "Trace in progress",
		"07": "Number not present and trace not required",
		"08": "Trace postponed (baby under six weeks old)",
	}},
	{"EthnicCategory", map[string]string{
		"A": "British, Mixed British", "B": "Irish", "C": "Any other White background",
		"D": "White and Black Caribbean", "E": "White and Black African", "F": "White and Asian",
		"G": "Any other mixed background", "H": "Indian or British Indian",
		"J": "Pakistani or British Pakistani", "K": "Bangladeshi or British Bangladeshi",
		"L": "Any other Asian background", "M": "Caribbean", "N": "African",
		"P": "Any other Black background", "R": "Chinese", "S": "Any other ethnic group",
		"Z": "Not stated", "99": "Not known",
	}},
}

func knownDisplay(system, code string) string {
	for _, k := range knownDisplays {
		if systemIs(system, k.system) {
			return k.codes[code]
		}
	}
	return ""
}

// quantityUnit returns a Quantity's unit, else its code, with the UCUM
// codes that are awkward to read (mm[Hg]) in their usual spelling.
func quantityUnit(q *node) string {
	u := q.str("unit")
	if u == "" {
		u = q.str("code")
	}
	if r, ok := ucumDisplay[u]; ok {
		return r
	}
	return u
}

// ucumDisplay spells UCUM codes the way clinicians write them.
var ucumDisplay = map[string]string{
	"mm[Hg]": "mmHg", "cm[H2O]": "cmH2O", "Cel": "°C", "[degF]": "°F", "[lb_av]": "lb", "[in_i]": "in",
	"{beats}/min": "beats/min", "/min": "/min", "{breaths}/min": "breaths/min",
}

// renderQuantity renders a Quantity (or Age, Duration, Money, SimpleQuantity).
func renderQuantity(q *node) string {
	if q == nil {
		return ""
	}
	v := q.get("value").text()
	if v == "" {
		return quantityUnit(q)
	}
	s := q.str("comparator") + v
	if u := quantityUnit(q); u != "" {
		s += " " + u
	} else if cur := q.str("currency"); cur != "" {
		s += " " + cur
	}
	return s
}

// renderComponents renders Observation components (objects carrying a
// value[x]): "120/80 mmHg" when the values are quantities in one unit,
// else the values joined with " / ".
func renderComponents(ns []*node) (string, bool) {
	vals := make([]*node, 0, len(ns))
	for _, n := range ns {
		if n.k != kObject || n.get("code") == nil {
			return "", false
		}
		var v *node
		for i := range n.kids {
			if k := n.kids[i].key; len(k) > 5 && strings.HasPrefix(k, "value") && isChoiceSuffix(k[5:]) {
				v = &n.kids[i]
				break
			}
		}
		if v == nil {
			v = n.get("dataAbsentReason")
		}
		if v == nil {
			return "", false
		}
		vals = append(vals, v)
	}
	unit, same := "", true
	for i, v := range vals {
		if v.k != kObject || kindOf(v.get("value")) != kNumber || v.str("comparator") != "" {
			same = false
			break
		}
		if i == 0 {
			unit = quantityUnit(v)
		} else if quantityUnit(v) != unit {
			same = false
			break
		}
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		if same {
			parts[i] = v.get("value").s
		} else {
			parts[i] = render(v)
		}
	}
	if same {
		s := strings.Join(parts, "/")
		if unit != "" {
			s += " " + unit
		}
		return s, true
	}
	return strings.Join(parts, " / "), true
}

// renderName renders a HumanName as FAMILY, Given Names (or its text).
func renderName(n *node) string {
	if t := strings.TrimSpace(n.str("text")); t != "" {
		return t
	}
	var given []string
	n.get("given").each(func(g *node) {
		if s := strings.TrimSpace(g.text()); s != "" {
			given = append(given, s)
		}
	})
	family := strings.ToUpper(strings.TrimSpace(n.str("family")))
	switch {
	case len(given) == 0:
		return family
	case family == "":
		return strings.Join(given, " ")
	}
	return family + ", " + strings.Join(given, " ")
}

// renderAddress renders an Address on one line.
func renderAddress(n *node) string {
	if t := strings.TrimSpace(n.str("text")); t != "" {
		return t
	}
	var parts []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	n.get("line").each(func(l *node) { add(l.text()) })
	add(n.str("city"))
	add(n.str("postalCode"))
	return strings.Join(parts, ", ")
}

// looksLikeDateTime reports whether s is a FHIR dateTime with a time.
func looksLikeDateTime(s string) bool {
	return len(s) >= 16 && s[10] == 'T' && isDate10(s)
}

func isDate10(s string) bool {
	return len(s) >= 10 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) &&
		s[4] == '-' && isDigit(s[5]) && isDigit(s[6]) && s[7] == '-' && isDigit(s[8]) && isDigit(s[9])
}

// formatDate shows a FHIR date, dateTime or instant as a date, with the
// time of day (as written, without seconds or zone) unless it is exactly
// midnight, which Care Connect data often uses for a plain date. Anything
// else is returned as it is.
func formatDate(s string) string {
	if !looksLikeDateTime(s) {
		return s
	}
	hm := s[11:16]
	if !isDigit(hm[0]) || !isDigit(hm[1]) || hm[2] != ':' || !isDigit(hm[3]) || !isDigit(hm[4]) {
		return s
	}
	if hm != "00:00" {
		return s[:10] + " " + hm
	}
	rest := s[16:]
	if strings.HasPrefix(rest, ":") {
		rest = rest[1:]
		for len(rest) > 0 && (isDigit(rest[0]) || rest[0] == '.') {
			if rest[0] != '0' && rest[0] != '.' {
				return s[:10] + " " + hm
			}
			rest = rest[1:]
		}
	}
	return s[:10]
}

// base64Size returns the number of bytes base64 text decodes to, without
// decoding it.
func base64Size(s string) int {
	n, pad := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '=':
			pad++
		case c == ' ' || c == '\n' || c == '\r' || c == '\t':
		default:
			n++
		}
	}
	n += pad
	return n/4*3 - pad + max(0, (n%4)-1)
}

// formatSize renders a byte count with thousands separators.
func formatSize(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if n == 1 {
		return b.String() + " byte"
	}
	return b.String() + " bytes"
}

// maxNarrative bounds a narrative summary, in bytes.
const maxNarrative = 160

// narrativeText turns XHTML narrative into one line of plain text.
func narrativeText(div string) string {
	if div == "" {
		return ""
	}
	var b strings.Builder
	inTag, space := false, false
	for i := 0; i < len(div) && b.Len() < maxNarrative*2; i++ {
		c := div[i]
		switch {
		case c == '<':
			inTag = true
			space = true
		case c == '>':
			inTag = false
		case inTag:
		case c == ' ' || c == '\n' || c == '\t' || c == '\r':
			space = true
		default:
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteByte(c)
		}
	}
	return clip(html.UnescapeString(b.String()), maxNarrative)
}
