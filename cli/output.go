package cli

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

// The output formats of query and show.
const (
	formatTable  = "table"
	formatCSV    = "csv"
	formatJSON   = "json"
	formatNDJSON = "ndjson"
)

func checkFormat(f string) error {
	switch f {
	case formatTable, formatCSV, formatJSON, formatNDJSON:
		return nil
	}
	return usagef("--format must be table, csv, json or ndjson, not %q", f)
}

// oneLine makes a cell safe for a table: no tabs or line breaks.
var oneLine = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ")

// writeTable prints rows under a header, in columns aligned with spaces.
func writeTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				io.WriteString(tw, "\t")
			}
			io.WriteString(tw, oneLine.Replace(c))
		}
		io.WriteString(tw, "\n")
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
	return tw.Flush()
}

// writeKeyValues prints "Key: value" lines with the values aligned.
func writeKeyValues(w io.Writer, kv [][2]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	for _, e := range kv {
		fmt.Fprintf(tw, "%s:\t%s\n", e[0], oneLine.Replace(e[1]))
	}
	return tw.Flush()
}

// table lays out the entries of resourceType in its Care Connect columns,
// with the entry's id first (unless the columns start with it).
func table(resourceType string, b *fhirclient.Bundle) (header []string, rows [][]string) {
	t := fhirclient.Rows(resourceType, b)
	withID := len(t.Columns) == 0 || t.Columns[0] != "ID"
	if withID {
		header = append([]string{"ID"}, t.Columns...)
	} else {
		header = t.Columns
	}
	rows = make([][]string, len(t.Rows))
	for i, r := range t.Rows {
		if withID {
			rows[i] = append([]string{t.Entries[i].ID}, r...)
		} else {
			rows[i] = r
		}
	}
	return header, rows
}

// writeCSV prints the rows as CSV (RFC 4180) with a header line.
func writeCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// bundleJSON is a FHIR Bundle as query --format json writes it.
type bundleJSON struct {
	ResourceType string      `json:"resourceType"`
	Type         string      `json:"type"`
	Total        *int        `json:"total,omitempty"`
	Link         []linkJSON  `json:"link,omitempty"`
	Entry        []entryJSON `json:"entry,omitempty"`
}

type linkJSON struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type entryJSON struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Search   *searchJSON     `json:"search,omitempty"`
}

type searchJSON struct {
	Mode string `json:"mode"`
}

// writeBundle prints the entries of b as one Bundle of type typ, with self
// as its self link (when not empty).
func writeBundle(w io.Writer, b *fhirclient.Bundle, typ, self string) error {
	out := bundleJSON{ResourceType: "Bundle", Type: typ, Total: b.Total}
	if self != "" {
		out.Link = []linkJSON{{Relation: "self", URL: self}}
	}
	for _, e := range b.Entries {
		ej := entryJSON{FullURL: e.FullURL}
		if len(e.Resource) > 0 {
			ej.Resource = e.Resource
		}
		if e.Mode != "" {
			ej.Search = &searchJSON{Mode: e.Mode}
		}
		out.Entry = append(out.Entry, ej)
	}
	return writeJSON(w, out)
}

// writeNDJSON prints every resource of b, except the server's
// OperationOutcome entries, as one line of JSON each.
func writeNDJSON(w io.Writer, b *fhirclient.Bundle) error {
	bw := bufio.NewWriter(w)
	var buf bytes.Buffer
	for _, e := range b.Entries {
		if len(e.Resource) == 0 || e.Mode == "outcome" {
			continue
		}
		buf.Reset()
		if err := json.Compact(&buf, e.Resource); err != nil {
			return fmt.Errorf("entry %s: %w", e.Reference(), err)
		}
		buf.WriteByte('\n')
		if _, err := bw.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeEntries prints the entries of resourceType in b in format; json
// writes the whole of b as a Bundle of bundleType.
func writeEntries(w io.Writer, format, resourceType string, b *fhirclient.Bundle, bundleType, self string) error {
	switch format {
	case formatJSON:
		return writeBundle(w, b, bundleType, self)
	case formatNDJSON:
		return writeNDJSON(w, b)
	}
	header, rows := table(resourceType, b)
	if format == formatCSV {
		return writeCSV(w, header, rows)
	}
	return writeTable(w, header, rows)
}
