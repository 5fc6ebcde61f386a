package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

const queryUsage = `Usage: ccexplorer query NAME 'Type?param=value&...' [--all] [--max N] [--format table|csv|json|ndjson]

Searches the profile's FHIR server, for example
  ccexplorer query "Built-in sandbox" 'Patient?gender=female&_count=50' --all --format csv

Without --all only the first page is fetched; --all follows the server's next
links to the last page, and --max N stops after N matching entries. Quote the
search: the shell gives & and ? meanings of their own.

Formats: table (the default) and csv show the searched type's Care Connect
columns, with the resource id first; json prints one searchset Bundle of
everything fetched (included resources too); ndjson prints one resource per
line. The session is found as for 'ccexplorer token'.
`

func runQuery(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("query", queryUsage, env)
	all := fs.Bool("all", false, "follow the next links and fetch every page")
	maxN := fs.Int("max", 0, "stop after `N` matching entries (0: no limit)")
	format := fs.String("format", formatTable, "the output `format`: table, csv, json or ndjson")
	pos, err := fs.parse(args, 2, 2)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if *maxN < 0 {
		return usagef("--max must not be negative")
	}
	typ, params, err := parseSearch(pos[1])
	if err != nil {
		return err
	}
	if *maxN > 0 && params.Get("_count") == "" && !*all {
		params.Set("_count", strconv.Itoa(*maxN))
	}
	l, err := openLive(ctx, env, pos[0])
	if err != nil {
		return err
	}
	defer l.w.Close()
	var (
		b     *fhirclient.Bundle
		pages = 1
	)
	err = l.fhir(ctx, func(fc *fhirclient.Client) error {
		var err error
		if *all {
			b, err = fc.SearchAll(ctx, typ, params, fhirclient.FetchOptions{Max: *maxN,
				Progress: func(p fhirclient.FetchProgress) { pages = p.Pages }})
		} else {
			b, err = fc.Search(ctx, typ, params)
		}
		return err // with --all, b may hold the pages fetched before err
	})
	if b == nil {
		return queryError(err)
	}
	if !*all && *maxN > 0 {
		limitMatches(b, *maxN)
	}
	if werr := writeEntries(env.Stdout, *format, typ, b, "searchset", b.Source); werr != nil {
		return werr
	}
	summarise(env.Stderr, typ, b, pages, *all, *format)
	if err != nil {
		fmt.Fprintln(env.Stderr, "warning: the results above are incomplete")
		return queryError(err)
	}
	return nil
}

// parseSearch splits 'Type?param=value&...' into the type and parameters.
func parseSearch(s string) (string, url.Values, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "/")
	typ, rawQuery, _ := strings.Cut(s, "?")
	if !isResourceType(typ) {
		return "", nil, usagef("%q does not start with a resource type: write the search as 'Type?param=value&...', for example 'Patient?family=smith'", s)
	}
	params, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", nil, usagef("the search parameters %q cannot be read: %v", rawQuery, err)
	}
	return typ, params, nil
}

// isResourceType reports whether s is shaped like a FHIR resource type.
func isResourceType(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// queryError maps the server's refusal of the search itself (a parameter it
// does not know, a type it does not serve) to a usage error; other errors
// keep their code.
func queryError(err error) error {
	var he *fhirclient.HTTPError
	if errors.As(err, &he) && !errors.Is(err, fhirclient.ErrPageExpired) {
		switch he.Status {
		case 400, 404, 405, 422:
			return withCode(ExitUsage, err)
		}
	}
	return err
}

// limitMatches keeps the first n matching entries of b (and the included
// entries among them).
func limitMatches(b *fhirclient.Bundle, n int) {
	kept, matches := b.Entries[:0], 0
	for _, e := range b.Entries {
		match := e.Mode == "match" || (e.Mode == "" && e.ResourceType != "OperationOutcome")
		if match {
			if matches >= n {
				continue
			}
			matches++
		}
		kept = append(kept, e)
	}
	b.Entries = kept
}

// summarise says on stderr what was fetched and what was left out.
func summarise(w io.Writer, typ string, b *fhirclient.Bundle, pages int, all bool, format string) {
	for _, warn := range b.Warnings {
		fmt.Fprintf(w, "warning: %s\n", oneLine.Replace(warn.String()))
	}
	n, others := 0, map[string]int{}
	for _, e := range b.Entries {
		switch {
		case e.ResourceType == typ:
			n++
		case e.Mode != "outcome":
			others[e.ResourceType]++
		}
	}
	msg := fmt.Sprintf("%d %s entr%s", n, typ, plural(n, "y", "ies"))
	if pages > 1 {
		msg += fmt.Sprintf(" from %d pages", pages)
	}
	if b.Total != nil {
		msg += fmt.Sprintf("; the server counts %d", *b.Total)
	}
	if len(others) > 0 {
		var parts []string
		for _, t := range slices.Sorted(maps.Keys(others)) {
			parts = append(parts, fmt.Sprintf("%d %s", others[t], t))
		}
		msg += "; also " + strings.Join(parts, ", ")
		if format == formatTable || format == formatCSV {
			msg += " (not in the table: use --format json or ndjson)"
		}
	}
	if !all && b.Link("next") != "" {
		msg += "; more on the next pages (use --all)"
	}
	fmt.Fprintln(w, msg+".")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
