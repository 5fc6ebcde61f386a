package fhirclient

import (
	"fmt"
	"strings"
)

// pathExpr is a compiled column path; Column documents the syntax.
type pathExpr struct {
	src  string
	alts [][]pathStep
}

type pathStep struct {
	name    string
	choice  bool
	filters []pathFilter
}

type pathFilter struct {
	key  string
	op   byte // '=', '~' or '^'
	vals []string
}

// compilePath parses a column path.
func compilePath(src string) (*pathExpr, error) {
	p := &pathExpr{src: src}
	for _, alt := range splitTop(src, '|') {
		alt = strings.TrimSpace(alt)
		if alt == "" {
			return nil, fmt.Errorf("path %q: an empty alternative", src)
		}
		var steps []pathStep
		for _, part := range splitTop(alt, '.') {
			st, err := compileStep(part)
			if err != nil {
				return nil, fmt.Errorf("path %q: %w", src, err)
			}
			steps = append(steps, st)
		}
		p.alts = append(p.alts, steps)
	}
	if len(p.alts) == 0 {
		return nil, fmt.Errorf("path %q is empty", src)
	}
	return p, nil
}

// splitTop splits s at sep outside square brackets.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func compileStep(part string) (pathStep, error) {
	i := strings.IndexByte(part, '[')
	name := part
	rest := ""
	if i >= 0 {
		name, rest = part[:i], part[i:]
	}
	if name == "" || strings.ContainsAny(name, "]=~^ ") {
		return pathStep{}, fmt.Errorf("bad step %q", part)
	}
	st := pathStep{name: name}
	for rest != "" {
		if rest[0] != '[' {
			return pathStep{}, fmt.Errorf("bad step %q", part)
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return pathStep{}, fmt.Errorf("unclosed [ in %q", part)
		}
		body := rest[1:end]
		rest = rest[end+1:]
		if body == "x" {
			st.choice = true
			continue
		}
		j := strings.IndexAny(body, "=~^")
		if j <= 0 || j == len(body)-1 {
			return pathStep{}, fmt.Errorf("bad filter [%s] in %q", body, part)
		}
		st.filters = append(st.filters, pathFilter{key: body[:j], op: body[j], vals: strings.Split(body[j+1:], "|")})
	}
	return st, nil
}

// matches reports whether the member name matches the step.
func (st *pathStep) matches(key string) bool {
	if !st.choice {
		return key == st.name
	}
	return len(key) > len(st.name) && strings.HasPrefix(key, st.name) && isChoiceSuffix(key[len(st.name):])
}

// isChoiceSuffix reports whether s is the type suffix of a choice element.
func isChoiceSuffix(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	return choiceTypes[s]
}

// choiceTypes are the data types a choice element can take, in STU3 and R4.
var choiceTypes = map[string]bool{
	"Base64Binary": true, "Boolean": true, "Canonical": true, "Code": true, "Date": true, "DateTime": true,
	"Decimal": true, "Id": true, "Instant": true, "Integer": true, "Markdown": true, "Oid": true,
	"PositiveInt": true, "String": true, "Time": true, "UnsignedInt": true, "Uri": true, "Url": true,
	"Uuid": true, "Address": true, "Age": true, "Annotation": true, "Attachment": true,
	"CodeableConcept": true, "Coding": true, "ContactPoint": true, "Count": true, "Distance": true,
	"Duration": true, "HumanName": true, "Identifier": true, "Money": true, "Period": true,
	"Quantity": true, "Range": true, "Ratio": true, "Reference": true, "SampledData": true,
	"Signature": true, "Timing": true, "ContactDetail": true, "Contributor": true, "DataRequirement": true,
	"Expression": true, "ParameterDefinition": true, "RelatedArtifact": true, "TriggerDefinition": true,
	"UsageContext": true, "Dosage": true, "Meta": true, "SimpleQuantity": true,
}

func (st *pathStep) keep(n *node) bool {
	for _, f := range st.filters {
		v := n.get(f.key).text()
		ok := false
		for _, want := range f.vals {
			switch f.op {
			case '=':
				ok = v == want
			case '~':
				ok = systemIs(v, want)
			case '^':
				ok = strings.Contains(v, want)
			}
			if ok {
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// systemIs reports whether a system or URL names name: its last segment,
// without a version suffix such as "-1" and without the Care Connect and
// UK Core prefixes ("Extension-", "CareConnect-", "UKCore-"), is name,
// ignoring case. So "nhs-number" matches https://fhir.nhs.uk/Id/nhs-number
// and http://fhir.nhs.net/Id/nhs-number/, and "EthnicCategory" matches
// .../Extension-CareConnect-EthnicCategory-1 and
// .../Extension-UKCore-EthnicCategory.
func systemIs(system, name string) bool {
	s := strings.TrimRight(system, "/")
	if i := strings.LastIndexAny(s, "/:"); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 && i < len(s)-1 && allDigits(s[i+1:]) {
		s = s[:i]
	}
	if strings.EqualFold(s, name) {
		return true
	}
	s = trimPrefixFold(s, "Extension-")
	for _, p := range []string{"CareConnect-", "UKCore-"} {
		s = trimPrefixFold(s, p)
	}
	return strings.EqualFold(s, name)
}

func trimPrefixFold(s, prefix string) string {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):]
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// evaluator evaluates paths, reusing its buffers; the slice it returns is
// valid until the next call.
type evaluator struct {
	cur, next []*node
}

func (ev *evaluator) eval(p *pathExpr, root *node) []*node {
	for _, steps := range p.alts {
		ev.cur = append(ev.cur[:0], root)
		for si := range steps {
			st := &steps[si]
			ev.next = ev.next[:0]
			for _, n := range ev.cur {
				if n.k != kObject {
					continue
				}
				for mi := range n.kids {
					m := &n.kids[mi]
					if !st.matches(m.key) {
						continue
					}
					if m.k == kArray {
						for ai := range m.kids {
							if x := &m.kids[ai]; x.k != kNull && (len(st.filters) == 0 || st.keep(x)) {
								ev.next = append(ev.next, x)
							}
						}
					} else if m.k != kNull && (len(st.filters) == 0 || st.keep(m)) {
						ev.next = append(ev.next, m)
					}
				}
			}
			ev.cur, ev.next = ev.next, ev.cur
			if len(ev.cur) == 0 {
				break
			}
		}
		if len(ev.cur) > 0 {
			return ev.cur
		}
	}
	return nil
}
