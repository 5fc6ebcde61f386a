package fhirclient

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"
)

// Bundle is a decoded Bundle envelope: a search result, a page of one, or a
// file opened offline. Entries keep their resource's raw JSON; nothing is
// parsed strictly on the way to the screen (see Entry.Parse and
// Bundle.Validate).
type Bundle struct {
	Type     string
	Total    *int              // the server's total, when it gives one
	Links    map[string]string // relation -> URL ("prev" is also filed as "previous")
	Entries  []Entry
	Warnings []Warning // search.mode=outcome entries and envelope problems
	Version  Version   // the FHIR version entries are parsed as
	Source   string    // the URL or file the bundle came from
	Size     int       // the size of the JSON in bytes
}

// Entry is one Bundle entry. Copies of an Entry share its parse state.
type Entry struct {
	FullURL      string
	ResourceType string
	ID           string
	Mode         string          // search.mode: match, include or outcome
	Resource     json.RawMessage // the resource's JSON; it shares the decoded bytes

	res *node
	st  *entryState
}

// entryState is an entry's lazily computed typed parse.
type entryState struct {
	version Version
	decoded []Warning // problems the envelope decoder saw
	once    sync.Once
	done    atomic.Bool
	msg     proto.Message
	err     error
	parsed  []Warning
}

// Warning is a conformance problem or a server's message about data that
// is still shown.
type Warning struct {
	Source   string // SourceParser, SourceServer or SourceDecoder
	Severity string // fatal, error, warning or information
	Code     string // the OperationOutcome issue code, when there is one
	Location string // the element, e.g. Observation.category
	Message  string
}

// The sources of warnings.
const (
	SourceParser  = "jsonformat" // the typed FHIR parser rejected or flagged the entry
	SourceServer  = "server"     // an OperationOutcome from the server
	SourceDecoder = "decoder"    // the envelope decoder found something odd
)

// String renders the warning on one line.
func (w Warning) String() string {
	var b strings.Builder
	if w.Severity != "" {
		b.WriteString(w.Severity)
		b.WriteString(": ")
	}
	if w.Location != "" && !strings.Contains(w.Message, w.Location) {
		b.WriteString(w.Location)
		b.WriteString(": ")
	}
	b.WriteString(w.Message)
	if w.Source != "" {
		b.WriteString(" (")
		b.WriteString(w.Source)
		b.WriteString(")")
	}
	return b.String()
}

// ErrNotBundle is returned when JSON that should be a Bundle is another
// resource or not a resource.
var ErrNotBundle = errors.New("not a FHIR Bundle")

// ErrNonConformant wraps the typed parser's complaints about a resource.
var ErrNonConformant = errors.New("the resource does not conform to the FHIR specification")

// DecodeBundle decodes a Bundle's envelope and the type and id of each
// entry, without parsing the resources strictly. Entries are parsed as STU3
// unless their profiles say R4; use DecodeBundleAs when the server's
// version is known. Entry.Resource shares data: do not modify data
// afterwards.
func DecodeBundle(data []byte) (*Bundle, error) {
	return DecodeBundleAs(data, VersionUnknown)
}

// DecodeBundleAs is DecodeBundle for a known FHIR version.
func DecodeBundleAs(data []byte, v Version) (*Bundle, error) {
	root, err := parseJSON(aliasString(data)) // Entry.Resource shares data anyway
	if err != nil {
		return nil, fmt.Errorf("decode Bundle: %w", err)
	}
	if root.k != kObject {
		return nil, fmt.Errorf("decode Bundle: %w: the JSON is not an object", ErrNotBundle)
	}
	if rt := root.str("resourceType"); rt != "Bundle" {
		if rt == "" {
			return nil, fmt.Errorf("decode Bundle: %w: the JSON has no resourceType", ErrNotBundle)
		}
		if rt == "OperationOutcome" {
			oo := outcomeFrom(&root)
			return nil, fmt.Errorf("decode Bundle: %w: got an OperationOutcome: %s", ErrNotBundle, oo.Summary())
		}
		return nil, fmt.Errorf("decode Bundle: %w: got resourceType %q", ErrNotBundle, rt)
	}
	return bundleFrom(data, &root, v), nil
}

// bundleFrom builds a Bundle from its parsed tree.
func bundleFrom(data []byte, root *node, v Version) *Bundle {
	if v == VersionUnknown {
		v = guessVersion(root)
	}
	b := &Bundle{Type: root.str("type"), Links: map[string]string{}, Version: v, Size: len(data)}
	if t := root.get("total"); t != nil {
		if n, err := strconv.Atoi(t.text()); err == nil && n >= 0 {
			b.Total = &n
		} else {
			b.Warnings = append(b.Warnings, Warning{Source: SourceDecoder, Severity: "warning",
				Location: "Bundle.total", Message: fmt.Sprintf("the total %s is not a count", clip(t.s, 40))})
		}
	}
	root.get("link").each(func(l *node) {
		rel, u := l.str("relation"), l.str("url")
		if rel == "" || u == "" {
			return
		}
		b.Links[rel] = u
		if rel == "prev" {
			b.Links["previous"] = u
		}
	})
	entries := root.get("entry")
	if entries != nil && entries.k == kArray {
		b.Entries = make([]Entry, 0, len(entries.kids))
	}
	states := make([]entryState, 0, len(entries.items()))
	entries.each(func(en *node) {
		states = append(states, entryState{version: v})
		st := &states[len(states)-1]
		e := Entry{FullURL: en.str("fullUrl"), Mode: en.get("search").str("mode"), st: st}
		res := en.get("resource")
		switch {
		case res == nil || res.k == kNull:
			st.decoded = append(st.decoded, Warning{Source: SourceDecoder, Severity: "warning",
				Location: "Bundle.entry", Message: "the entry has no resource"})
		case res.k != kObject:
			st.decoded = append(st.decoded, Warning{Source: SourceDecoder, Severity: "error",
				Location: "Bundle.entry.resource", Message: "the entry's resource is not a JSON object"})
			e.Resource, _ = json.Marshal(res.toAny()) // keep whatever it is, for the details view
		default:
			e.res = res
			e.ResourceType = res.str("resourceType")
			e.ID = res.str("id")
			end := int(res.pos) + len(res.s)
			e.Resource = json.RawMessage(data[res.pos:end:end])
			if e.ResourceType == "" {
				st.decoded = append(st.decoded, Warning{Source: SourceDecoder, Severity: "error",
					Location: "resourceType", Message: "the resource has no resourceType"})
			}
		}
		if e.Mode == "outcome" || (e.ResourceType == "OperationOutcome" && b.Type == "searchset") {
			b.Warnings = append(b.Warnings, outcomeFrom(res).Warnings()...)
		}
		b.Entries = append(b.Entries, e)
	})
	return b
}

// guessVersion looks for a FHIR version in the entries' profiles.
func guessVersion(root *node) Version {
	v := VersionUnknown
	root.get("entry").each(func(en *node) {
		if v != VersionUnknown {
			return
		}
		en.get("resource").get("meta").get("profile").each(func(p *node) {
			switch s := p.text(); {
			case strings.Contains(s, "/STU3/") || strings.Contains(s, "CareConnect-"):
				v = STU3
			case strings.Contains(s, "/R4/") || strings.Contains(s, "UKCore-"):
				v = R4
			}
		})
	})
	return v
}

// Link returns the URL of the link with the relation rel, or "".
func (b *Bundle) Link(rel string) string {
	if b == nil {
		return ""
	}
	if rel == "prev" {
		rel = "previous"
	}
	return b.Links[rel]
}

// Matches counts the entries that matched the search (rather than being
// included or an outcome).
func (b *Bundle) Matches() int {
	n := 0
	for i := range b.Entries {
		if b.Entries[i].isMatch() {
			n++
		}
	}
	return n
}

func (e *Entry) isMatch() bool {
	return e.Mode == "match" || (e.Mode == "" && e.ResourceType != "OperationOutcome")
}

// ResourceTypes lists the resource types of the entries in order of first
// appearance.
func (b *Bundle) ResourceTypes() []string {
	var out []string
	seen := map[string]bool{}
	for i := range b.Entries {
		t := b.Entries[i].ResourceType
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// Reference returns the entry's relative reference, Type/id, or its full
// URL when it has no id.
func (e Entry) Reference() string {
	if e.ResourceType != "" && e.ID != "" {
		return e.ResourceType + "/" + e.ID
	}
	return e.FullURL
}

// Version returns the FHIR version the entry is parsed as.
func (e Entry) Version() Version {
	if e.st == nil {
		return VersionUnknown
	}
	return e.st.version
}

// Warnings returns what is known to be wrong with the entry: problems
// found while decoding the envelope and, once the entry has been parsed
// (Parse or Bundle.Validate), the typed parser's messages.
func (e Entry) Warnings() []Warning {
	if e.st == nil {
		return nil
	}
	if !e.st.done.Load() {
		return e.st.decoded
	}
	if len(e.st.decoded) == 0 {
		return e.st.parsed
	}
	out := make([]Warning, 0, len(e.st.decoded)+len(e.st.parsed))
	return append(append(out, e.st.decoded...), e.st.parsed...)
}

// Parsed reports whether the typed parse has run.
func (e Entry) Parsed() bool { return e.st != nil && e.st.done.Load() }

// Parse parses the entry with jsonformat for its FHIR version and returns
// the ContainedResource proto (STU3 or R4). It runs once per entry; later
// calls return the same result. The resource is returned whenever the
// parser could build it; a non-nil error wrapping ErrNonConformant carries
// the parser's messages, which also become the entry's Warnings. Parsing
// is about 14 times slower than decoding generic JSON, so it is kept off
// the path to the table (see Bundle.Validate).
func (e Entry) Parse() (proto.Message, error) {
	if e.st == nil {
		e.st = &entryState{}
	}
	st := e.st
	st.once.Do(func() {
		defer st.done.Store(true)
		raw := e.Resource
		if e.res == nil {
			st.err = fmt.Errorf("%w: the entry has no resource object", ErrNonConformant)
			return
		}
		st.msg, st.parsed, st.err = parseTyped(raw, st.version)
	})
	return st.msg, st.err
}

// parseTyped runs jsonformat on one resource and turns its complaints into
// warnings.
func parseTyped(raw []byte, v Version) (proto.Message, []Warning, error) {
	u, err := unmarshaller(v)
	if err != nil {
		return nil, nil, fmt.Errorf("create the %s parser: %w", v.orDefault(), err)
	}
	rep := &warningReporter{}
	msg, perr := u.UnmarshalWithErrorReporter(raw, rep)
	ws := rep.w
	if perr != nil {
		var lines []Warning
		for _, line := range strings.Split(perr.Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				lines = append(lines, Warning{Source: SourceParser, Severity: "error", Location: parserLocation(line), Message: line})
			}
		}
		// jsonformat reports in map order; sort for a stable display.
		slices.SortStableFunc(lines, func(a, b Warning) int {
			return cmp.Or(strings.Compare(a.Location, b.Location), strings.Compare(a.Message, b.Message))
		})
		ws = append(ws, lines...)
	}
	var msgs []string
	for _, w := range ws {
		if w.Severity == "error" || w.Severity == "fatal" {
			msgs = append(msgs, w.Message)
		}
	}
	if len(msgs) > 0 {
		return msg, ws, fmt.Errorf("%w (%s): %s", ErrNonConformant, v.orDefault(), strings.Join(msgs, "; "))
	}
	return msg, ws, nil
}

// parserLocation extracts the element from jsonformat's `error at "X": ...`.
func parserLocation(msg string) string {
	const prefix = `error at "`
	if i := strings.Index(msg, prefix); i >= 0 {
		rest := msg[i+len(prefix):]
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			return rest[:j]
		}
	}
	return ""
}

// warningReporter collects jsonformat's validation messages.
type warningReporter struct{ w []Warning }

// ReportValidationError records a jsonformat validation error.
func (r *warningReporter) ReportValidationError(path string, err error) error {
	r.w = append(r.w, Warning{Source: SourceParser, Severity: "error", Location: path, Message: err.Error()})
	return nil
}

// ReportValidationWarning records a jsonformat validation warning.
func (r *warningReporter) ReportValidationWarning(path string, err error) error {
	r.w = append(r.w, Warning{Source: SourceParser, Severity: "warning", Location: path, Message: err.Error()})
	return nil
}

// Validate parses every entry with jsonformat (in parallel, on up to
// GOMAXPROCS goroutines) so that each entry's Warnings carry the typed
// parser's messages. It is meant to run in the background after the rows
// are on screen. progress, if not nil, is called from Validate's goroutine
// with the number of entries done so far. Validate stops early when ctx
// ends; entries parsed by then keep their results.
func (b *Bundle) Validate(ctx context.Context, progress func(done, total int)) error {
	total := len(b.Entries)
	if total == 0 {
		return ctx.Err()
	}
	workers := runtime.GOMAXPROCS(0)
	if workers > total {
		workers = total
	}
	var next atomic.Int64
	done := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				_, _ = b.Entries[i].Parse()
				done <- struct{}{}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	n := 0
	for range done {
		n++
		if progress != nil {
			progress(n, total)
		}
	}
	return ctx.Err()
}

// Issue is one OperationOutcome issue.
type Issue struct {
	Severity    string   // fatal, error, warning or information
	Code        string   // e.g. processing, security, not-found
	Diagnostics string   // the server's own text
	Details     string   // details.text, or its coding's display or code
	Location    []string // location (STU3) and expression (R4)
}

// Text returns the issue's most useful text.
func (i Issue) Text() string {
	switch {
	case i.Diagnostics != "":
		return i.Diagnostics
	case i.Details != "":
		return i.Details
	}
	return i.Code
}

// OperationOutcome is a decoded OperationOutcome.
type OperationOutcome struct {
	Issues []Issue
}

// Summary joins the issues' texts.
func (o *OperationOutcome) Summary() string {
	if o == nil {
		return ""
	}
	var parts []string
	for _, is := range o.Issues {
		if t := is.Text(); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "; ")
}

// Warnings turns the issues into warnings from the server.
func (o *OperationOutcome) Warnings() []Warning {
	if o == nil {
		return nil
	}
	out := make([]Warning, 0, len(o.Issues))
	for _, is := range o.Issues {
		out = append(out, Warning{Source: SourceServer, Severity: is.Severity, Code: is.Code,
			Location: strings.Join(is.Location, ", "), Message: is.Text()})
	}
	return out
}

// HasErrors reports whether an issue is an error or fatal.
func (o *OperationOutcome) HasErrors() bool {
	if o == nil {
		return false
	}
	for _, is := range o.Issues {
		if is.Severity == "error" || is.Severity == "fatal" {
			return true
		}
	}
	return false
}

// outcomeFrom reads an OperationOutcome from its tree; nil gives an empty
// outcome. Texts are redacted: servers have been known to echo tokens.
func outcomeFrom(n *node) *OperationOutcome {
	oo := &OperationOutcome{}
	n.get("issue").each(func(is *node) {
		i := Issue{
			Severity:    is.str("severity"),
			Code:        is.str("code"),
			Diagnostics: Redact(strings.TrimSpace(is.str("diagnostics"))),
		}
		if d := is.get("details"); d != nil {
			i.Details = Redact(renderCodeable(d))
		}
		for _, name := range []string{"location", "expression"} {
			is.get(name).each(func(l *node) {
				if t := l.text(); t != "" {
					i.Location = append(i.Location, t)
				}
			})
		}
		oo.Issues = append(oo.Issues, i)
	})
	return oo
}

// DecodeOperationOutcome decodes an OperationOutcome resource.
func DecodeOperationOutcome(data []byte) (*OperationOutcome, error) {
	root, err := parseJSON(string(bytes.TrimPrefix(data, utf8BOM)))
	if err != nil {
		return nil, fmt.Errorf("decode OperationOutcome: %w", err)
	}
	if rt := root.str("resourceType"); rt != "OperationOutcome" {
		return nil, fmt.Errorf("decode OperationOutcome: got resourceType %q", rt)
	}
	return outcomeFrom(&root), nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// clip shortens s to at most n bytes (on a rune boundary), adding "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
