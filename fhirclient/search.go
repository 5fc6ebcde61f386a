package fhirclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Date and number search prefixes.
const (
	PrefixEq = "eq"
	PrefixNe = "ne"
	PrefixGt = "gt"
	PrefixLt = "lt"
	PrefixGe = "ge"
	PrefixLe = "le"
	PrefixSa = "sa"
	PrefixEb = "eb"
	PrefixAp = "ap"
)

// validType reports whether s can be a resource type name.
func validType(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// EscapeValue escapes a search value's reserved characters (\ , $ |) the
// FHIR way, so that a comma or bar in a value is not read as OR or as a
// system separator.
func EscapeValue(s string) string {
	if !strings.ContainsAny(s, `\,$|`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\', ',', '$', '|':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Token returns a token search value: system|code with each part escaped,
// or just the code when system is empty.
func Token(system, code string) string {
	if system == "" {
		return EscapeValue(code)
	}
	return EscapeValue(system) + "|" + EscapeValue(code)
}

// DateParam returns a date search value with a prefix such as PrefixGe:
// DateParam(PrefixGe, "2017-01-01") is "ge2017-01-01".
func DateParam(prefix, date string) string { return prefix + date }

// Param returns a parameter name with a modifier: Param("name", "exact")
// is "name:exact".
func Param(name, modifier string) string {
	if modifier == "" {
		return name
	}
	return name + ":" + modifier
}

// EncodeQuery encodes search parameters: names in order, repeated
// parameters in the order given (an AND of their values), and every
// character that a URL query or a server might misread escaped — including
// "|" (which Tomcat, under the CCRI, rejects raw) and "+" (which would
// read as a space) — while ":" (modifiers, URLs), "/" and "," (OR) stay
// readable.
func EncodeQuery(params url.Values) string {
	if len(params) == 0 {
		return ""
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range params[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(queryEscape(k))
			b.WriteByte('=')
			b.WriteString(queryEscape(v))
		}
	}
	return b.String()
}

// queryEscape escapes s for a query component.
func queryEscape(s string) string {
	const hex = "0123456789ABCDEF"
	safe := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("-._~:/,@!*'()", c) >= 0
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !safe(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if safe(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

// SearchURL returns the URL of a search.
func (c *Client) SearchURL(resourceType string, params url.Values) string {
	u := c.baseStr + "/" + resourceType
	if q := EncodeQuery(params); q != "" {
		u += "?" + q
	}
	return u
}

// Search runs a search for resourceType with params (see EncodeQuery,
// Token, DateParam and Param; _count, _include and _revinclude are
// parameters like any other) and returns the first page.
func (c *Client) Search(ctx context.Context, resourceType string, params url.Values) (*Bundle, error) {
	if !validType(resourceType) {
		return nil, fmt.Errorf("search: %q is not a resource type", resourceType)
	}
	b, err := c.bundle(ctx, c.SearchURL(resourceType, params), false)
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", resourceType, err)
	}
	return b, nil
}

// Page fetches a page by its link (a Bundle's next, previous, first or
// last URL, HAPI's _getpages links included). A link to another origin
// fails with ErrCrossOrigin; a 404 or 410 answer means the server has
// forgotten the search and fails with ErrPageExpired.
func (c *Client) Page(ctx context.Context, link string) (*Bundle, error) {
	if link == "" {
		return nil, ErrNoPage
	}
	b, err := c.bundle(ctx, link, true)
	if err != nil {
		return nil, fmt.Errorf("fetch page: %w", err)
	}
	return b, nil
}

// Next fetches the page after b; ErrNoPage when b is the last.
func (c *Client) Next(ctx context.Context, b *Bundle) (*Bundle, error) {
	return c.follow(ctx, b, "next")
}

// Previous fetches the page before b; ErrNoPage when b is the first.
func (c *Client) Previous(ctx context.Context, b *Bundle) (*Bundle, error) {
	return c.follow(ctx, b, "previous")
}

// First fetches the first page of b's search.
func (c *Client) First(ctx context.Context, b *Bundle) (*Bundle, error) {
	return c.follow(ctx, b, "first")
}

// Last fetches the last page of b's search.
func (c *Client) Last(ctx context.Context, b *Bundle) (*Bundle, error) {
	return c.follow(ctx, b, "last")
}

func (c *Client) follow(ctx context.Context, b *Bundle, rel string) (*Bundle, error) {
	link := b.Link(rel)
	if link == "" {
		return nil, fmt.Errorf("%w: %s", ErrNoPage, rel)
	}
	return c.Page(ctx, link)
}

// bundle fetches a Bundle.
func (c *Client) bundle(ctx context.Context, target string, paging bool) (*Bundle, error) {
	r, root, err := c.getResource(ctx, target, paging)
	if err != nil {
		return nil, err
	}
	switch rt := root.str("resourceType"); rt {
	case "Bundle":
	case "OperationOutcome":
		return nil, outcomeError(r, root, "a Bundle")
	default:
		return nil, notFHIR(r, nil, fmt.Sprintf("the server answered a %s, not a Bundle", rt))
	}
	b := bundleFrom(r.body, root, c.Version())
	b.Source = RedactURL(r.url)
	return b, nil
}

// FetchOptions bounds and reports a fetch of every page.
type FetchOptions struct {
	// Max is the most matching entries to fetch; 0 means no limit.
	Max int
	// Progress, if set, is called after each page on the fetching
	// goroutine.
	Progress func(FetchProgress)
}

// FetchProgress is how far a fetch of every page has got.
type FetchProgress struct {
	Pages   int
	Matches int  // matching entries so far
	Total   *int // the server's total, if it gives one
	Done    bool // no more pages will be fetched
}

// ErrPagingLoop is returned when a server's next links go round in a
// circle.
var ErrPagingLoop = errors.New("the server's next links lead back to a page already fetched")

// SearchAll runs a search and follows its next links until the last page
// or until opt.Max matches, merging the pages into one Bundle. When it
// stops early (ctx ended, a page failed) it returns the entries fetched so
// far together with an error naming the page it stopped at; the returned
// Bundle's next link is that page, so FetchAll(ctx, partial, opt) resumes
// the fetch where it stopped, keeping the entries already fetched.
func (c *Client) SearchAll(ctx context.Context, resourceType string, params url.Values, opt FetchOptions) (*Bundle, error) {
	first, err := c.Search(ctx, resourceType, params)
	if err != nil {
		return nil, err
	}
	return c.FetchAll(ctx, first, opt)
}

// FetchAll continues from a first page as SearchAll does.
func (c *Client) FetchAll(ctx context.Context, first *Bundle, opt FetchOptions) (*Bundle, error) {
	out := &Bundle{Type: first.Type, Total: first.Total, Links: first.Links, Version: first.Version,
		Source: first.Source}
	p := FetchProgress{Total: first.Total}
	seen := map[string]bool{first.Link("self"): true}
	add := func(b *Bundle) {
		p.Pages++
		out.Size += b.Size
		out.Warnings = append(out.Warnings, b.Warnings...)
		out.Links = b.Links
		for _, e := range b.Entries {
			if e.isMatch() {
				if opt.Max > 0 && p.Matches >= opt.Max {
					continue
				}
				p.Matches++
			}
			out.Entries = append(out.Entries, e)
		}
	}
	report := func(done bool) {
		p.Done = done
		if opt.Progress != nil {
			opt.Progress(p)
		}
	}
	add(first)
	page := first
	for {
		next := page.Link("next")
		if next == "" || (opt.Max > 0 && p.Matches >= opt.Max) {
			report(true)
			return out, nil
		}
		report(false)
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("fetch all: %w", err)
		}
		if seen[next] {
			return out, fmt.Errorf("fetch all: %w", ErrPagingLoop)
		}
		seen[next] = true
		var err error
		page, err = c.Page(ctx, next)
		if err != nil {
			return out, fmt.Errorf("fetch all stopped at page %d (%s), keeping the %d matches of the pages before: %w",
				p.Pages+1, RedactURL(next), p.Matches, err)
		}
		add(page)
	}
}
