package sandbox

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Paging limits.
const (
	defaultCount = 20
	maxCount     = 500
)

// Result-control and format parameters accepted on every search besides the type's own.
const (
	paramID         = "_id"
	paramCount      = "_count"
	paramOffset     = "_getpagesoffset"
	paramInclude    = "_include"
	paramRevInclude = "_revinclude"
	paramFormat     = "_format"
	paramPretty     = "_pretty"
)

// searchError is a malformed search (HTTP 400).
type searchError struct{ msg string }

func (e *searchError) Error() string { return e.msg }

func badSearch(format string, args ...any) error { return &searchError{fmt.Sprintf(format, args...)} }

// query is a parsed search.
type query struct {
	typ         string
	filters     []filter // all must match
	count       int
	offset      int
	includes    []includeDef
	revIncludes []includeDef
	canonical   url.Values // the search without paging, for links
}

// filter is one search parameter occurrence; any of its values may match.
type filter struct {
	p        *searchParam // nil for _id
	modifier string
	values   []value
}

type value struct {
	raw       string
	prefix    string // date prefix
	lo, hi    int64  // date range
	system    string // token system
	hasSystem bool
	code      string
	refType   string
	refID     string
}

// parseQuery validates a search on typ. Unknown parameters, modifiers and malformed values are errors.
func parseQuery(typ string, q url.Values) (*query, error) {
	out := &query{typ: typ, count: defaultCount, canonical: url.Values{}}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		vals := q[key]
		name, modifier, _ := strings.Cut(key, ":")
		switch name {
		case paramFormat, paramPretty:
			continue
		case paramCount, paramOffset:
			if modifier != "" || len(vals) != 1 {
				return nil, badSearch("%s must be given once, without a modifier", name)
			}
			n, err := strconv.Atoi(strings.TrimSpace(vals[0]))
			if err != nil || n < 0 {
				return nil, badSearch("%s=%q: want a non-negative integer", name, vals[0])
			}
			if name == paramCount {
				out.count = min(n, maxCount)
			} else {
				out.offset = n
			}
			continue
		case paramInclude, paramRevInclude:
			if modifier != "" {
				return nil, badSearch("%s does not take a modifier (got %q)", name, key)
			}
			defs := includes[typ]
			if name == paramRevInclude {
				defs = revIncludes[typ]
			}
			for _, v := range vals {
				i := slices.IndexFunc(defs, func(d includeDef) bool { return d.spec == v })
				if i < 0 {
					return nil, badSearch("%s=%s is not supported on %s; supported: %s", name, v, typ, includeList(defs))
				}
				if name == paramInclude {
					out.includes = append(out.includes, defs[i])
				} else {
					out.revIncludes = append(out.revIncludes, defs[i])
				}
				out.canonical.Add(key, v)
			}
			continue
		}
		var p *searchParam
		if name != paramID {
			i := slices.IndexFunc(searchParams[typ], func(p *searchParam) bool { return p.name == name })
			if i < 0 {
				return nil, badSearch("unknown search parameter %q for %s; supported: %s", name, typ, paramList(typ))
			}
			p = searchParams[typ][i]
		}
		if err := checkModifier(p, name, modifier); err != nil {
			return nil, err
		}
		for _, v := range vals {
			if v == "" {
				continue // FHIR: empty parameter values are ignored
			}
			f := filter{p: p, modifier: modifier}
			for _, part := range splitValues(v) {
				val, err := parseValue(p, modifier, part)
				if err != nil {
					return nil, err
				}
				f.values = append(f.values, val)
			}
			out.filters = append(out.filters, f)
			out.canonical.Add(key, v)
		}
	}
	return out, nil
}

func includeList(defs []includeDef) string {
	if len(defs) == 0 {
		return "none"
	}
	var names []string
	for _, d := range defs {
		names = append(names, d.spec)
	}
	return strings.Join(names, ", ")
}

func paramList(typ string) string {
	names := []string{paramID}
	for _, p := range searchParams[typ] {
		names = append(names, p.name)
	}
	return strings.Join(append(names, paramCount, paramInclude, paramRevInclude), ", ")
}

// splitValues splits a parameter value on unescaped commas (comma = OR); "\," is a literal comma.
func splitValues(v string) []string {
	var parts []string
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v) && (v[i+1] == ',' || v[i+1] == '\\' || v[i+1] == '|' || v[i+1] == '$'):
			b.WriteByte(v[i+1])
			i++
		case v[i] == ',':
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(v[i])
		}
	}
	return append(parts, b.String())
}

func checkModifier(p *searchParam, name, modifier string) error {
	if modifier == "" {
		return nil
	}
	kind := kindToken
	if p != nil {
		kind = p.kind
	}
	switch kind {
	case kindString:
		if modifier == "exact" || modifier == "contains" {
			return nil
		}
	case kindReference:
		if p != nil && modifier == p.target {
			return nil
		}
	}
	return badSearch("modifier :%s is not supported on %s parameter %q", modifier, kind, name)
}

var datePrefixes = []string{"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}

func parseValue(p *searchParam, modifier, s string) (value, error) {
	v := value{raw: s}
	kind := kindToken
	if p != nil {
		kind = p.kind
	}
	name := paramID
	if p != nil {
		name = p.name
	}
	switch kind {
	case kindString:
		if s == "" {
			return v, badSearch("%s: empty value in a list", name)
		}
	case kindToken:
		if p == nil { // _id
			v.code = s
			return v, nil
		}
		if sys, c, ok := strings.Cut(s, "|"); ok {
			v.system, v.code, v.hasSystem = sys, c, true
		} else {
			v.code = s
		}
		if v.code == "" && !v.hasSystem || (v.hasSystem && v.system == "" && v.code == "") {
			return v, badSearch("%s=%q: want [system|]code", name, s)
		}
	case kindDate:
		v.prefix = "eq"
		if len(s) >= 2 && slices.Contains(datePrefixes, s[:2]) {
			v.prefix, s = s[:2], s[2:]
		}
		lo, hi, err := parseDateRange(s)
		if err != nil {
			return v, badSearch("%s=%q: %v", name, v.raw, err)
		}
		v.lo, v.hi = lo, hi
	case kindReference:
		ref := s
		if i := strings.LastIndex(ref, "/"+p.target+"/"); i >= 0 && strings.Contains(ref[:i], "://") {
			ref = ref[i+1:] // absolute URL
		}
		if typ, id, ok := strings.Cut(ref, "/"); ok {
			v.refType, v.refID = typ, id
		} else {
			v.refType, v.refID = modifier, ref
			if v.refType == "" {
				v.refType = p.target
			}
		}
		if v.refType != p.target {
			return v, badSearch("%s=%q: must refer to a %s", name, s, p.target)
		}
		if v.refID == "" || strings.ContainsAny(v.refID, "/?#") {
			return v, badSearch("%s=%q: want [id], %s/[id] or an absolute URL", name, s, p.target)
		}
	}
	return v, nil
}

// parseDateRange parses a FHIR date/dateTime into the half-open range of Unix seconds it covers.
func parseDateRange(s string) (int64, int64, error) {
	layouts := []struct {
		layout string
		next   func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
		{"2006-01-02T15:04Z07:00", func(t time.Time) time.Time { return t.Add(time.Minute) }},
		{"2006-01-02T15:04:05Z07:00", func(t time.Time) time.Time { return t.Add(time.Second) }},
		{"2006-01-02T15:04:05.999999999Z07:00", func(t time.Time) time.Time { return t.Add(time.Second) }},
		{"2006-01-02T15:04", func(t time.Time) time.Time { return t.Add(time.Minute) }},
		{"2006-01-02T15:04:05", func(t time.Time) time.Time { return t.Add(time.Second) }},
	}
	for _, l := range layouts {
		if len(s) < 4 {
			break
		}
		t, err := time.ParseInLocation(l.layout, s, time.UTC)
		if err == nil {
			if t.Year() < 1 || t.Year() > 9999 {
				break
			}
			return t.Unix(), l.next(t).Unix(), nil
		}
	}
	return 0, 0, fmt.Errorf("not a FHIR date (want YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[Z|±hh:mm], optionally after a prefix eq|ne|gt|lt|ge|le|sa|eb|ap)")
}

// scratch holds buffers reused while one query scans its candidates.
type scratch struct {
	strs []string
	toks []coding
}

// matches reports whether r satisfies every filter.
func (q *query) matches(d *dataset, r *record, sc *scratch) bool {
	for i := range q.filters {
		if !q.filters[i].matches(d, r, sc) {
			return false
		}
	}
	return true
}

func (f *filter) matches(d *dataset, r *record, sc *scratch) bool {
	if f.p == nil {
		for _, v := range f.values {
			if v.code == r.id {
				return true
			}
		}
		return false
	}
	switch f.p.kind {
	case kindString:
		sc.strs = f.p.strs(r, sc.strs[:0])
		for _, v := range f.values {
			for _, h := range sc.strs {
				if matchString(f.p, f.modifier, h, v.raw) {
					return true
				}
			}
		}
	case kindToken:
		sc.toks = f.p.tokens(r, sc.toks[:0])
		for _, v := range f.values {
			for _, h := range sc.toks {
				if matchToken(f.p, h, v) {
					return true
				}
			}
		}
	case kindDate:
		s, ok := f.p.date(r)
		if !ok {
			return false
		}
		for _, v := range f.values {
			if matchDate(v, s) {
				return true
			}
		}
	case kindReference:
		target := f.p.ref(d, r)
		if target == nil {
			return false
		}
		for _, v := range f.values {
			if target.typ == v.refType && target.id == v.refID {
				return true
			}
		}
	}
	return false
}

func matchString(p *searchParam, modifier, have, want string) bool {
	switch {
	case modifier == "exact":
		return have == want
	case modifier == "contains":
		return strings.Contains(strings.ToLower(have), strings.ToLower(want))
	case strings.HasSuffix(p.name, "postalcode"):
		return hasPrefixFoldNoSpaces(have, want)
	}
	if hasPrefixFold(have, want) {
		return true
	}
	// A name also matches from the start of any later word ("moorland" finds "Northern Moorland Hospital").
	for i := 0; i < len(have); i++ {
		if have[i] == ' ' && hasPrefixFold(have[i+1:], want) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// hasPrefixFoldNoSpaces is hasPrefixFold ignoring spaces in both strings ("ls62" is a prefix of "LS6 2AB").
func hasPrefixFoldNoSpaces(s, prefix string) bool {
	i := 0
	for j := 0; j < len(prefix); j++ {
		if prefix[j] == ' ' {
			continue
		}
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) || lowerASCII(s[i]) != lowerASCII(prefix[j]) {
			return false
		}
		i++
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalNoSpaces compares two strings ignoring spaces ("999 123 4567" equals "9991234567").
func equalNoSpaces(a, b string) bool {
	i, j := 0, 0
	for {
		for i < len(a) && a[i] == ' ' {
			i++
		}
		for j < len(b) && b[j] == ' ' {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if a[i] != b[j] {
			return false
		}
		i++
		j++
	}
}

func matchToken(p *searchParam, have coding, v value) bool {
	if v.hasSystem && v.system != "" && v.system != have.system {
		return false
	}
	if v.hasSystem && v.system == "" && have.system != "" {
		return false // "|code" asks for a code without a system
	}
	if v.code == "" {
		return true // "system|" matches any code in the system
	}
	switch {
	case p.ignoreSpaces:
		return equalNoSpaces(have.code, v.code)
	case p.foldCase:
		return strings.EqualFold(have.code, v.code)
	}
	return have.code == v.code
}

// matchDate applies a FHIR date prefix to the resource's range s and the parameter's range.
func matchDate(v value, s span) bool {
	switch v.prefix {
	case "ne":
		return !(s.lo >= v.lo && s.hi <= v.hi)
	case "gt":
		return s.hi > v.hi
	case "lt":
		return s.lo < v.lo
	case "ge":
		return s.hi > v.lo
	case "le":
		return s.lo < v.hi
	case "sa":
		return s.lo >= v.hi
	case "eb":
		return s.hi <= v.lo
	case "ap":
		return s.lo < v.hi && s.hi > v.lo
	default: // eq
		return s.lo >= v.lo && s.hi <= v.hi
	}
}

// run returns every match of q in id order.
func (q *query) run(d *dataset) []*record {
	candidates := d.table(q.typ).records
	// A patient reference narrows clinical types to that patient's records.
	for _, f := range q.filters {
		if f.p != nil && f.p.kind == kindReference && f.p.target == typePatient && len(f.values) == 1 {
			p := d.lookup(typePatient, f.values[0].refID)
			if p == nil {
				return nil
			}
			if d.table(q.typ).patStart != nil {
				candidates = d.forPatient(q.typ, p.patient)
			}
			break
		}
	}
	var out []*record
	var sc scratch
	for _, r := range candidates {
		if q.matches(d, r, &sc) {
			out = append(out, r)
		}
	}
	return out
}
