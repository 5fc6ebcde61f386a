package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

const showUsage = `Usage: ccexplorer show FILE [--format table|csv|json|ndjson] [--type TYPE]

Shows a saved Bundle or resource (FHIR JSON) offline, with the same Care
Connect columns as query. Every entry is checked against the FHIR
specification; what does not conform is still shown, and the parser's
complaints are printed on stderr as warnings. XML files are not supported.

A table shows every resource type in the file, one after another; csv shows
one type: --type, or else the first in the file.
`

func runShow(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("show", showUsage, env)
	format := fs.String("format", formatTable, "the output `format`: table, csv, json or ndjson")
	only := fs.String("type", "", "show only the entries of this resource `type`")
	pos, err := fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	b, err := fhirclient.OpenFile(pos[0])
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if err := b.Validate(ctx, nil); err != nil {
		return err
	}
	types := slices.DeleteFunc(b.ResourceTypes(), func(t string) bool { return t == "OperationOutcome" })
	if *only != "" {
		if !slices.Contains(types, *only) {
			return usagef("the file has no %s entries (it has %s)", *only, strings.Join(types, ", "))
		}
		types = []string{*only}
	}
	if err := writeFile(env, *format, b, types, *only != ""); err != nil {
		return err
	}
	warnings(env, b)
	return nil
}

// writeFile prints the file's entries of types in format.
func writeFile(env Env, format string, b *fhirclient.Bundle, types []string, filtered bool) error {
	if filtered {
		b = subset(b, types[0])
	}
	switch format {
	case formatJSON:
		if b.Type == "" && len(b.Entries) == 1 { // a single resource: print it as it is
			var buf bytes.Buffer
			if err := json.Indent(&buf, b.Entries[0].Resource, "", "  "); err != nil {
				return withCode(ExitUsage, err)
			}
			buf.WriteByte('\n')
			_, err := env.Stdout.Write(buf.Bytes())
			return err
		}
		typ := b.Type
		if typ == "" {
			typ = "collection"
		}
		return writeBundle(env.Stdout, b, typ, "")
	case formatNDJSON:
		return writeNDJSON(env.Stdout, b)
	case formatCSV:
		if len(types) == 0 {
			return writeCSV(env.Stdout, []string{"ID"}, nil)
		}
		if len(types) > 1 {
			fmt.Fprintf(env.Stderr, "note: showing the %s entries; the file also has %s (choose with --type)\n",
				types[0], strings.Join(types[1:], ", "))
		}
		header, rows := table(types[0], b)
		return writeCSV(env.Stdout, header, rows)
	}
	for i, t := range types {
		header, rows := table(t, b)
		if len(types) > 1 {
			if i > 0 {
				fmt.Fprintln(env.Stdout)
			}
			fmt.Fprintf(env.Stdout, "%s (%d)\n", t, len(rows))
		}
		if err := writeTable(env.Stdout, header, rows); err != nil {
			return err
		}
	}
	return nil
}

// subset returns a Bundle holding b's entries of one type.
func subset(b *fhirclient.Bundle, typ string) *fhirclient.Bundle {
	out := *b
	out.Entries = nil
	for _, e := range b.Entries {
		if e.ResourceType == typ {
			out.Entries = append(out.Entries, e)
		}
	}
	return &out
}

// warnings prints the bundle's and every entry's warnings on stderr.
func warnings(env Env, b *fhirclient.Bundle) {
	for _, w := range b.Warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", oneLine.Replace(w.String()))
	}
	n := 0
	for i, e := range b.Entries {
		ws := e.Warnings()
		if len(ws) == 0 {
			continue
		}
		n++
		ref := e.Reference()
		if ref == "" {
			ref = fmt.Sprintf("entry %d (%s)", i+1, e.ResourceType)
		}
		for _, w := range ws {
			fmt.Fprintf(env.Stderr, "warning: %s: %s\n", ref, oneLine.Replace(w.String()))
		}
	}
	if n > 0 {
		fmt.Fprintf(env.Stderr, "%d of %d entr%s do%s not conform to FHIR %s; %s shown all the same.\n",
			n, len(b.Entries), plural(len(b.Entries), "y", "ies"), plural(n, "es", ""), versionName(b), plural(n, "it is", "they are"))
	}
}

func versionName(b *fhirclient.Bundle) string {
	if b.Version == "" {
		return "STU3"
	}
	return string(b.Version)
}
