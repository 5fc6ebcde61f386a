package ui

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

// TestExportFormats exports the CCRI Observations, opened offline and
// sorted by date, in each format and reads the files back.
func TestExportFormats(t *testing.T) {
	src := resultsObservationFile(t)
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := fhirclient.DecodeBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	h := newBrowserHarness(t, nil)
	h.b.openFile(src)
	h.waitShown()
	test := func(name string, f exportFormat, check func(t *testing.T, data []byte)) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "export"+exportFormats[f].ext)
			h.b.exportTo(path, f)
			if err := browserWait(h, h.exported, "the export"); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			check(t, data)
		})
	}
	h.b.onSort(slices.Index(h.b.data.Columns, "Date"))
	h.waitShown()

	test("csv", exportCSV, func(t *testing.T, data []byte) {
		if !bytes.HasSuffix(data, []byte("\r\n")) || bytes.Count(data, []byte("\r\n")) != 4 {
			t.Errorf("CSV lines do not end in CRLF: %q", data)
		}
		records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(records[0], h.b.data.Columns) {
			t.Errorf("header = %v, want %v", records[0], h.b.data.Columns)
		}
		for i, row := range h.b.data.Rows {
			if !slices.Equal(records[i+1], row) {
				t.Errorf("row %d = %v, want %v (as shown)", i, records[i+1], row)
			}
		}
		if got := records[1][0]; got != "1999-07-02" {
			t.Errorf("first row's date = %q, want the earliest (the table's order)", got)
		}
	})
	test("bundle", exportBundle, func(t *testing.T, data []byte) {
		b, err := fhirclient.DecodeBundle(data)
		if err != nil {
			t.Fatal(err)
		}
		if b.Type != "searchset" || b.Total == nil || *b.Total != 3 || len(b.Entries) != 3 {
			t.Fatalf("bundle: type %q, total %v, %d entries", b.Type, b.Total, len(b.Entries))
		}
		for i, e := range orig.Entries {
			if !bytes.Contains(data, e.Resource) {
				t.Errorf("entry %d's JSON is not in the export as it was", i)
			}
			if b.Entries[i].FullURL != e.FullURL || b.Entries[i].Mode != "match" {
				t.Errorf("entry %d: fullUrl %q mode %q", i, b.Entries[i].FullURL, b.Entries[i].Mode)
			}
		}
	})
	test("ndjson", exportNDJSON, func(t *testing.T, data []byte) {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		n := 0
		for sc.Scan() {
			var res struct{ ResourceType string }
			if err := json.Unmarshal(sc.Bytes(), &res); err != nil || res.ResourceType != "Observation" {
				t.Errorf("line %d: %v, resourceType %q", n+1, err, res.ResourceType)
			}
			var want bytes.Buffer
			_ = json.Compact(&want, orig.Entries[n].Resource)
			if !bytes.Equal(sc.Bytes(), want.Bytes()) {
				t.Errorf("line %d is not the resource compacted", n+1)
			}
			n++
		}
		if n != 3 {
			t.Errorf("%d lines, want 3", n)
		}
	})
}

// TestWriteCSV quotes cells as RFC 4180 says.
func TestWriteCSV(t *testing.T) {
	tbl := fhirclient.Table{Columns: []string{"Name", "Note"}, Rows: [][]string{
		{"SMITH, Anna", `said "hello"`},
		{"JONES", "two\nlines"},
		{"", ""},
	}}
	var buf bytes.Buffer
	if err := writeCSV(&buf, &tbl); err != nil {
		t.Fatal(err)
	}
	want := "Name,Note\r\n\"SMITH, Anna\",\"said \"\"hello\"\"\"\r\nJONES,\"two\r\nlines\"\r\n,\r\n"
	if got := buf.String(); got != want {
		t.Errorf("CSV =\n%q\nwant\n%q", got, want)
	}
}

// TestWriteBundleAndNDJSON keeps every entry in a Bundle, outcomes
// included, and leaves outcomes out of NDJSON.
func TestWriteBundleAndNDJSON(t *testing.T) {
	src := browserSearchset(1, nil, browserOutcome("warning", "processing", "Partial results"), browserPatients[0],
		`{"resourceType":"Organization","id":"B82001","name":"Leeds \"Central\" Practice"}`)
	b, err := fhirclient.DecodeBundle([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := writeBundle(&out, b.Entries); err != nil {
		t.Fatal(err)
	}
	back, err := fhirclient.DecodeBundle(out.Bytes())
	if err != nil {
		t.Fatalf("the Bundle does not decode: %v\n%s", err, out.String())
	}
	var modes []string
	for _, e := range back.Entries {
		modes = append(modes, e.Mode)
	}
	if want := []string{"outcome", "match", "include"}; !slices.Equal(modes, want) || *back.Total != 1 {
		t.Errorf("modes %v total %d, want %v and 1", modes, *back.Total, want)
	}
	out.Reset()
	if err := writeNDJSON(&out, b.Entries); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"resourceType":"Patient"`) || !strings.Contains(lines[1], `Leeds \"Central\" Practice`) {
		t.Errorf("NDJSON =\n%s", out.String())
	}
}

// TestExportNothing refuses in words when there is nothing to export.
func TestExportNothing(t *testing.T) {
	h := newBrowserHarness(t, nil)
	path := filepath.Join(t.TempDir(), "empty.csv")
	h.b.exportTo(path, exportCSV)
	if err := browserWait(h, h.exported, "the export"); err == nil {
		t.Error("an export of nothing succeeded")
	}
	if got := h.b.status.Text; got != "Nothing to export: run a search or open a file first." {
		t.Errorf("status = %q", got)
	}
}
