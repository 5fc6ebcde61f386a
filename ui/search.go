package ui

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

// searchDefaultCount is the page size of a type's default search.
const searchDefaultCount = "50"

// searchNHSNumber names the form's NHS number field, a token search on the
// identifier parameter with the NHS number system filled in.
const searchNHSNumber = "nhs-number"

// searchCommon lists, per resource type, the search parameters shown first,
// in order; the rest of what the server offers goes under "More search
// parameters".
var searchCommon = map[string][]string{
	"Patient":             {searchNHSNumber, "family", "given", "birthdate", "gender", "address-postalcode"},
	"Observation":         {"patient", "code", "category", "date", "status"},
	"Condition":           {"patient", "code", "clinical-status", "category", "asserted-date"},
	"Encounter":           {"patient", "date", "type", "status"},
	"Procedure":           {"patient", "code", "date", "status"},
	"AllergyIntolerance":  {"patient", "clinical-status", "verification-status", "date"},
	"MedicationRequest":   {"patient", "code", "authoredon", "status"},
	"MedicationStatement": {"patient", "effective", "status"},
	"Immunization":        {"patient", "date", "status"},
	"DocumentReference":   {"patient", "type", "period"},
	"Organization":        {"identifier", "name", "address-postalcode"},
	"Practitioner":        {"identifier", "name", "address-postalcode"},
	"Location":            {"identifier", "name", "address-postalcode"},
}

// searchLabels are the form labels of well-known parameters; others are
// derived from the parameter's name.
var searchLabels = map[string]string{
	searchNHSNumber:      "NHS number",
	"family":             "Family name",
	"given":              "Given name",
	"birthdate":          "Birth date",
	"address-postalcode": "Postcode",
	"authoredon":         "Authored on",
	"_id":                "Resource id",
	"_lastUpdated":       "Last updated",
	"notgiven":           "Not given",
}

// searchKnownCodes are the codes offered for well-known token parameters
// whose documentation does not list them.
var searchKnownCodes = map[string][]string{
	"gender": {"male", "female", "other", "unknown"},
}

// searchDatePrefixes are the date comparisons the form offers, in words,
// with the FHIR prefix each stands for.
var searchDatePrefixes = []struct{ words, prefix string }{
	{"on", ""},
	{"from", fhirclient.PrefixGe},
	{"after", fhirclient.PrefixGt},
	{"until", fhirclient.PrefixLe},
	{"before", fhirclient.PrefixLt},
	{"not on", fhirclient.PrefixNe},
	{"about", fhirclient.PrefixAp},
}

// searchDateRE matches a FHIR date or dateTime: YYYY, YYYY-MM, YYYY-MM-DD,
// or a full date and time with a time zone.
var searchDateRE = regexp.MustCompile(`^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$`)

// searchCodeRE matches a simple code, as listed in a parameter's
// documentation ("male | female | other | unknown").
var searchCodeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// searchField is one input of the search form.
type searchField struct {
	name   string // the parameter sent
	key    string // what identifies the field: the name, or searchNHSNumber
	label  string
	kind   string // string, token, date, reference, number, quantity, uri, ...
	system string // the identifier system a token value gets (NHS numbers)

	entry  *widget.Entry       // every field's text
	choice *widget.SelectEntry // tokens with known codes; entry is its Entry
	prefix *widget.Select      // date comparisons
}

// value returns the field's search value, "" when it is empty, or an error
// in plain words when what was typed cannot be searched for.
func (f *searchField) value() (string, error) {
	s := strings.TrimSpace(f.entry.Text)
	if s == "" {
		return "", nil
	}
	switch {
	case f.key == searchNHSNumber:
		digits := strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) || r == '-' {
				return -1
			}
			return r
		}, s)
		if len(digits) != 10 || strings.Trim(digits, "0123456789") != "" {
			return "", fmt.Errorf("%s: an NHS number has 10 digits", f.label)
		}
		return fhirclient.Token(f.system, digits), nil
	case f.kind == "date":
		if !searchDateRE.MatchString(s) {
			return "", fmt.Errorf("%s: write the date as YYYY, YYYY-MM or YYYY-MM-DD", f.label)
		}
		return fhirclient.DateParam(f.prefixCode(), s), nil
	case f.kind == "number":
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "", fmt.Errorf("%s: %q is not a number", f.label, s)
		}
	}
	return s, nil
}

// prefixCode returns the FHIR prefix of the chosen date comparison.
func (f *searchField) prefixCode() string {
	if f.prefix == nil {
		return ""
	}
	for _, p := range searchDatePrefixes {
		if p.words == f.prefix.Selected {
			return p.prefix
		}
	}
	return ""
}

// setValue fills the field from a search value, as a quick search or a
// rebuilt form does.
func (f *searchField) setValue(v string) {
	if f.key == searchNHSNumber {
		v = strings.TrimPrefix(v, f.system+"|")
	}
	if f.prefix != nil {
		for _, p := range searchDatePrefixes {
			if p.prefix != "" && strings.HasPrefix(v, p.prefix) && len(v) > 2 && v[2] >= '0' && v[2] <= '9' {
				f.prefix.SetSelected(p.words)
				v = v[2:]
				break
			}
		}
	}
	f.entry.SetText(v)
}

// object returns the field's input.
func (f *searchField) object() fyne.CanvasObject {
	var in fyne.CanvasObject = f.entry
	if f.choice != nil {
		in = f.choice
	}
	if f.prefix != nil {
		return container.NewBorder(nil, nil, f.prefix, nil, in)
	}
	return in
}

// searchForm is the search form of one resource type, built from the
// server's CapabilityStatement.
type searchForm struct {
	resourceType string
	searchable   bool // the server offers search-type on the type (or nothing is known)
	common       []*searchField
	more         []*searchField
	count        *widget.SelectEntry
	include      *searchChecks // _include choices, nil when the server offers none
	revInclude   *searchChecks // _revinclude choices
	// extra holds parameters set by a quick search that have no field.
	extra url.Values

	content fyne.CanvasObject
}

// newSearchForm builds the form for resourceType. caps may be nil (not
// loaded yet, or offline): the form then offers the common parameters.
// onChange is called on every edit.
func newSearchForm(resourceType string, caps *fhirclient.Capabilities, onChange func()) *searchForm {
	f := &searchForm{resourceType: resourceType, searchable: true, extra: url.Values{}}
	var params []fhirclient.SearchParam
	var includes, revIncludes []string
	rc, known := (*fhirclient.ResourceCapability)(nil), false
	if caps != nil {
		rc, known = caps.Resource(resourceType)
	}
	if known {
		params = slices.Clone(rc.SearchParams)
		for _, p := range caps.SearchParams {
			if _, dup := rc.SearchParam(p.Name); !dup {
				params = append(params, p)
			}
		}
		includes, revIncludes = rc.SearchInclude, rc.SearchRevInclude
		f.searchable = len(rc.Interactions) == 0 || rc.Supports("search-type")
	} else {
		for _, name := range searchCommon[resourceType] {
			if name == searchNHSNumber {
				name = "identifier"
			}
			params = append(params, fhirclient.SearchParam{Name: name, Type: searchGuessKind(name)})
		}
	}
	byName := map[string]fhirclient.SearchParam{}
	for _, p := range params {
		if p.Name != "" && p.Name != "_count" && p.Name != "_include" && p.Name != "_revinclude" {
			byName[p.Name] = p
		}
	}
	used := map[string]bool{}
	for _, key := range searchCommon[resourceType] {
		if key == searchNHSNumber {
			if p, ok := byName["identifier"]; ok {
				f.common = append(f.common, newSearchField(p, searchNHSNumber, onChange))
			}
			continue
		}
		if p, ok := byName[key]; ok {
			f.common = append(f.common, newSearchField(p, key, onChange))
			used[key] = true
		}
	}
	var rest []string
	for name := range byName {
		if !used[name] {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	for _, name := range rest {
		f.more = append(f.more, newSearchField(byName[name], name, onChange))
	}
	if len(f.common) == 0 && len(f.more) > 0 {
		// Nothing well known: show the first few parameters up front.
		n := min(4, len(f.more))
		f.common, f.more = f.more[:n], f.more[n:]
	}

	f.count = widget.NewSelectEntry([]string{"10", "20", searchDefaultCount, "100", "500"})
	f.count.SetText(searchDefaultCount)
	f.count.OnChanged = func(string) { onChange() }
	if len(includes) > 0 {
		f.include = newSearchChecks(includes, onChange)
	}
	if len(revIncludes) > 0 {
		f.revInclude = newSearchChecks(revIncludes, onChange)
	}
	f.content = f.layout()
	return f
}

// newSearchField makes the input for one parameter.
func newSearchField(p fhirclient.SearchParam, key string, onChange func()) *searchField {
	f := &searchField{name: p.Name, key: key, kind: p.Type, label: searchLabel(key)}
	if f.kind == "" {
		f.kind = searchGuessKind(p.Name)
	}
	placeholder := searchPlaceholder(f.kind, p.Documentation)
	if key == searchNHSNumber {
		f.system = fhirclient.NHSNumberSystem
		placeholder = "10 digits"
	}
	if codes := searchCodes(p); f.kind == "token" && key != searchNHSNumber && len(codes) > 0 {
		f.choice = widget.NewSelectEntry(codes)
		f.entry = &f.choice.Entry
		placeholder = "choose or type a code"
	} else {
		f.entry = widget.NewEntry()
	}
	f.entry.SetPlaceHolder(placeholder)
	f.entry.OnChanged = func(string) { onChange() }
	if f.kind == "date" {
		words := make([]string, len(searchDatePrefixes))
		for i, p := range searchDatePrefixes {
			words[i] = p.words
		}
		f.prefix = widget.NewSelect(words, func(string) { onChange() })
		f.prefix.Selected = words[0]
	}
	return f
}

// searchGuessKind guesses a parameter's type from its name, for forms
// built before the CapabilityStatement has been read.
func searchGuessKind(name string) string {
	switch {
	case name == "patient" || name == "subject" || name == "encounter":
		return "reference"
	case strings.Contains(name, "date") || name == "authoredon" || name == "effective" || name == "period" || name == "_lastUpdated":
		return "date"
	case name == "family" || name == "given" || name == "name" || strings.HasPrefix(name, "address"):
		return "string"
	}
	return "token"
}

// searchLabel returns a parameter's form label.
func searchLabel(key string) string {
	if l, ok := searchLabels[key]; ok {
		return l
	}
	s := strings.ReplaceAll(strings.TrimPrefix(key, "_"), "-", " ")
	if s == "" {
		return key
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// searchPlaceholder says what a field expects.
func searchPlaceholder(kind, doc string) string {
	doc = strings.TrimSpace(doc)
	if doc != "" && len(doc) <= 40 && !strings.Contains(doc, "|") {
		return doc
	}
	switch kind {
	case "date":
		return "YYYY-MM-DD"
	case "token":
		return "code or system|code"
	case "reference":
		return "Type/id or id"
	case "number", "quantity":
		return "number"
	}
	return "starts with…"
}

// searchCodes returns the codes a token parameter can take: those its
// documentation lists ("Administrative gender: male | female | other |
// unknown") or well-known ones.
func searchCodes(p fhirclient.SearchParam) []string {
	doc := p.Documentation
	if i := strings.LastIndex(doc, ":"); i >= 0 {
		doc = doc[i+1:]
	}
	if strings.Count(doc, "|") >= 1 {
		var codes []string
		for _, part := range strings.Split(doc, "|") {
			c := strings.TrimSpace(part)
			if !searchCodeRE.MatchString(c) {
				codes = nil
				break
			}
			codes = append(codes, c)
		}
		if len(codes) >= 2 {
			return codes
		}
	}
	return searchKnownCodes[p.Name]
}

// layout lays the form out: the common parameters in two columns, the rest
// and the include choices folded away.
func (f *searchForm) layout() fyne.CanvasObject {
	left := container.New(layout.NewFormLayout())
	right := container.New(layout.NewFormLayout())
	fields := append(slices.Clone(f.common), nil) // nil stands for _count
	half := (len(fields) + 1) / 2
	for i, fd := range fields {
		col := left
		if i >= half {
			col = right
		}
		if fd == nil {
			col.Add(widget.NewLabel("Page size"))
			col.Add(f.count)
			continue
		}
		col.Add(widget.NewLabel(fd.label))
		col.Add(fd.object())
	}
	parts := []fyne.CanvasObject{container.NewGridWithColumns(2, left, right)}
	var more []fyne.CanvasObject
	var what []string
	if len(f.more) > 0 {
		form := widget.NewForm()
		for _, fd := range f.more {
			form.Append(fd.label, fd.object())
		}
		more = append(more, form)
		what = append(what, searchPlural(len(f.more), "parameter"))
	}
	if f.include != nil {
		more = append(more, widget.NewLabel("Include the resources these refer to (_include)"), f.include.box)
		what = append(what, searchPlural(len(f.include.checks), "include"))
	}
	if f.revInclude != nil {
		more = append(more, widget.NewLabel("Include the resources that refer to these (_revinclude)"), f.revInclude.box)
		what = append(what, searchPlural(len(f.revInclude.checks), "reverse include"))
	}
	if len(more) > 0 {
		item := widget.NewAccordionItem("More search options: "+strings.Join(what, ", "), container.NewVBox(more...))
		parts = append(parts, widget.NewAccordion(item))
	}
	return container.NewVBox(parts...)
}

// searchChecks are check boxes, one per choice, laid out in as many
// columns as fit: a server may offer a dozen _revinclude choices, which in
// one row would make the window as wide as all of them.
type searchChecks struct {
	checks []*widget.Check
	box    *fyne.Container
}

// newSearchChecks makes a check box per option; onChange is called when
// one is ticked or cleared.
func newSearchChecks(options []string, onChange func()) *searchChecks {
	c := &searchChecks{}
	width := float32(0)
	var objs []fyne.CanvasObject
	for _, o := range options {
		ch := widget.NewCheck(o, func(bool) { onChange() })
		c.checks = append(c.checks, ch)
		objs = append(objs, ch)
		width = max(width, ch.MinSize().Width)
	}
	c.box = container.NewGridWrap(fyne.NewSize(width, objs[0].MinSize().Height), objs...)
	return c
}

// options lists the choices.
func (c *searchChecks) options() []string {
	if c == nil {
		return nil
	}
	out := make([]string, len(c.checks))
	for i, ch := range c.checks {
		out[i] = ch.Text
	}
	return out
}

// selected lists the choices ticked.
func (c *searchChecks) selected() []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, ch := range c.checks {
		if ch.Checked {
			out = append(out, ch.Text)
		}
	}
	return out
}

// tick ticks the choice v; it reports false when v is not a choice.
func (c *searchChecks) tick(v string) bool {
	if c == nil {
		return false
	}
	for _, ch := range c.checks {
		if ch.Text == v {
			ch.SetChecked(true)
			return true
		}
	}
	return false
}

// searchPlural says how many of a thing there are: "1 include", "4
// parameters".
func searchPlural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// fields returns every field, common ones first.
func (f *searchForm) fields() []*searchField {
	return append(slices.Clone(f.common), f.more...)
}

// field returns the field with key (a parameter name, or searchNHSNumber).
func (f *searchForm) field(key string) *searchField {
	for _, fd := range f.fields() {
		if fd.key == key {
			return fd
		}
	}
	return nil
}

// params returns the search parameters the form describes, and the first
// problem with what was typed.
func (f *searchForm) params() (url.Values, error) {
	q := url.Values{}
	var errs []error
	for _, fd := range f.fields() {
		v, err := fd.value()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if v != "" {
			q.Add(fd.name, v)
		}
	}
	for k, vs := range f.extra {
		q[k] = append(q[k], vs...)
	}
	if c := strings.TrimSpace(f.count.Text); c != "" {
		if n, err := strconv.Atoi(c); err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("page size: %q is not a positive number", c))
		} else {
			q.Set("_count", strconv.Itoa(n))
		}
	}
	for _, v := range f.include.selected() {
		q.Add("_include", v)
	}
	for _, v := range f.revInclude.selected() {
		q.Add("_revinclude", v)
	}
	return q, errors.Join(errs...)
}

// setParams fills the form from search parameters; those without a field
// are kept as extras and still sent.
func (f *searchForm) setParams(q url.Values) {
	for name, vs := range q {
		switch name {
		case "_count":
			f.count.SetText(vs[0])
			continue
		case "_include", "_revinclude":
			g := f.include
			if name == "_revinclude" {
				g = f.revInclude
			}
			var rest []string
			for _, v := range vs {
				if !g.tick(v) {
					rest = append(rest, v)
				}
			}
			if len(rest) > 0 {
				f.extra[name] = rest
			}
			continue
		}
		var rest []string
		for _, v := range vs {
			fd := f.field(name)
			if name == "identifier" && strings.HasPrefix(v, fhirclient.NHSNumberSystem+"|") {
				if nhs := f.field(searchNHSNumber); nhs != nil {
					fd = nhs
				}
			}
			if fd != nil && strings.TrimSpace(fd.entry.Text) == "" {
				fd.setValue(v)
			} else {
				rest = append(rest, v)
			}
		}
		if len(rest) > 0 {
			f.extra[name] = rest
		}
	}
}

// searchParseURL splits a search URL into its resource type and parameters.
// raw is absolute on base, or relative to it ("Patient?family=Smith").
func searchParseURL(base, raw string) (string, url.Values, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil, errors.New("the query is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, fmt.Errorf("the query is not a URL: %w", err)
	}
	path := u.Path
	if u.IsAbs() {
		b, err := url.Parse(strings.TrimSuffix(base, "/"))
		if err != nil || base == "" {
			return "", nil, errors.New("there is no server to send the query to")
		}
		if !strings.EqualFold(u.Scheme, b.Scheme) || !strings.EqualFold(u.Host, b.Host) || !strings.HasPrefix(u.Path, b.Path+"/") {
			return "", nil, fmt.Errorf("the query must start with the server's address, %s", base)
		}
		path = strings.TrimPrefix(u.Path, b.Path+"/")
	}
	path = strings.Trim(path, "/")
	if path == "" || strings.Contains(path, "/") {
		return "", nil, errors.New("the query must name one resource type, as in Patient?family=Smith")
	}
	// A "+" typed into a FHIR query is a plus (a time zone, say), not the
	// space of HTML forms.
	q, err := url.ParseQuery(strings.ReplaceAll(u.RawQuery, "+", "%2B"))
	if err != nil {
		return "", nil, fmt.Errorf("the query's parameters do not parse: %w", err)
	}
	return path, q, nil
}

// searchURL returns the URL of a search: on the client's server, or
// relative when there is none.
func searchURL(c *fhirclient.Client, resourceType string, q url.Values) string {
	if c != nil {
		return c.SearchURL(resourceType, q)
	}
	if enc := fhirclient.EncodeQuery(q); enc != "" {
		return resourceType + "?" + enc
	}
	return resourceType
}

// searchCurl returns a curl command that runs the query. The token is the
// shell variable $TOKEN unless token is not empty.
func searchCurl(u, token string) string {
	auth := `"Authorization: Bearer $TOKEN"`
	if token != "" {
		auth = shellQuote("Authorization: Bearer " + token)
	}
	return "curl -sS -H " + shellQuote("Accept: application/fhir+json") + " -H " + auth + " " + shellQuote(u)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
