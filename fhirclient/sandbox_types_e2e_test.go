package fhirclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/careconnectexplorer/ccexplorer/fhirclient"
	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

// sandboxTypes are the types the sandbox serves, with the columns that must
// be filled in every row of its data.
var sandboxTypes = []struct {
	typ      string
	required []string
}{
	{"Patient", []string{"NHS number", "Name", "Gender", "Birth date", "Postcode", "NHS number status"}},
	{"Practitioner", []string{"Identifier", "Name"}},
	{"Organization", []string{"Identifier", "Name"}},
	{"Location", []string{"Name"}},
	{"Encounter", []string{"Start", "Status", "Class"}},
	{"Condition", []string{"Code", "Clinical status"}},
	{"Procedure", []string{"Performed", "Code", "Status"}},
	{"Observation", []string{"Date", "Code", "Value", "Status"}},
	{"AllergyIntolerance", []string{"Code"}},
	{"MedicationRequest", []string{"Medication", "Status", "Intent"}},
	{"MedicationStatement", []string{"Medication", "Status", "Taken"}},
	{"Immunization", []string{"Vaccine", "Status", "Not given"}},
	{"DocumentReference", []string{"Type", "Status", "Attachment"}},
	{"Binary", []string{"ID", "Content type", "Size"}},
}

// startSized runs a sandbox with n patients.
func startSized(t *testing.T, n int) *sandbox.Server {
	t.Helper()
	srv, err := sandbox.Start(sandbox.Config{Addr: "127.0.0.1:0", Patients: n})
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// readAll logs in as the client that may read every type.
func readAll(t *testing.T, srv *sandbox.Server) *fhirclient.Client {
	t.Helper()
	sess := login(t, srv, "medication-access")
	return fhirclient.New(srv.FHIRBase(), sess.HTTPClient(nil))
}

func TestSandboxCapabilities(t *testing.T) {
	srv := startSized(t, 5)
	fc := fhirclient.New(srv.FHIRBase(), nil) // metadata needs no token
	caps, err := fc.Capabilities(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if caps.Version != fhirclient.STU3 || fc.Version() != fhirclient.STU3 || !strings.HasPrefix(caps.FHIRVersion, "3.0") {
		t.Errorf("FHIR version %q (%q)", caps.FHIRVersion, caps.Version)
	}
	if caps.Software.Name == "" {
		t.Errorf("no software name")
	}
	if caps.Security.OAuth.Token != srv.Info().TokenEndpoint || caps.Security.OAuth.Authorize != srv.Info().AuthorizeEndpoint {
		t.Errorf("oauth-uris %+v, want %s and %s", caps.Security.OAuth, srv.Info().TokenEndpoint, srv.Info().AuthorizeEndpoint)
	}
	for _, st := range sandboxTypes {
		r, ok := caps.Resource(st.typ)
		if !ok {
			t.Errorf("%s is not in the CapabilityStatement", st.typ)
			continue
		}
		if !r.Supports("read") || (!r.Supports("search-type") && st.typ != "Binary") {
			t.Errorf("%s interactions %v", st.typ, r.Interactions)
		}
		if st.typ != "Binary" && len(r.SearchParams) == 0 {
			t.Errorf("%s has no search parameters", st.typ)
		}
		for _, p := range r.SearchParams {
			if p.Name == "" || p.Type == "" {
				t.Errorf("%s search parameter %+v", st.typ, p)
			}
		}
	}
	if p, _ := caps.Resource("Patient"); p == nil || len(p.SearchInclude) == 0 || len(p.SearchRevInclude) == 0 {
		t.Errorf("Patient includes %+v", p)
	}
}

func TestSandboxColumnsForEveryType(t *testing.T) {
	srv := startSized(t, 10)
	fc := readAll(t, srv)
	if _, err := fc.Capabilities(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, st := range sandboxTypes {
		t.Run(st.typ, func(t *testing.T) {
			b, err := fc.Search(t.Context(), st.typ, url.Values{"_count": {"20"}})
			if err != nil {
				t.Fatalf("search: %v", err)
			}
			table := fhirclient.Rows(st.typ, b)
			if len(table.Rows) == 0 {
				t.Fatalf("no rows")
			}
			want := fhirclient.ColumnsFor(st.typ)
			if len(table.Columns) != len(want) {
				t.Fatalf("columns %q", table.Columns)
			}
			for _, col := range st.required {
				i := slices.Index(table.Columns, col)
				if i < 0 {
					t.Fatalf("no column %q in %q", col, table.Columns)
				}
				for r, row := range table.Rows {
					if row[i] == "" {
						t.Errorf("row %d (%s): %s is empty", r, table.Entries[r].Reference(), col)
					}
				}
			}
			for c := range table.Columns {
				table.Sort(c, c%2 == 1)
			}
			if err := b.Validate(t.Context(), nil); err != nil {
				t.Fatal(err)
			}
			for r := range table.Rows {
				for _, w := range table.Warnings(r) {
					if w.Severity == "error" {
						t.Errorf("%s does not parse as STU3: %s", table.Entries[r].Reference(), w)
					}
				}
			}
		})
	}
}

func TestSandboxPagingToTheEnd(t *testing.T) {
	srv := startSized(t, 23)
	fc := readAll(t, srv)
	ctx := t.Context()
	page, err := fc.Search(ctx, "Patient", url.Values{"_count": {"5"}})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total == nil || *page.Total != 23 {
		t.Fatalf("total %v, want 23", page.Total)
	}
	seen := map[string]bool{}
	pages := 0
	for {
		pages++
		for _, e := range page.Entries {
			if e.ResourceType == "Patient" {
				if seen[e.ID] {
					t.Errorf("patient %s on two pages", e.ID)
				}
				seen[e.ID] = true
			}
		}
		next, err := fc.Next(ctx, page)
		if errors.Is(err, fhirclient.ErrNoPage) {
			break
		}
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		page = next
	}
	if len(seen) != 23 || pages != 5 {
		t.Errorf("%d patients on %d pages, want 23 on 5", len(seen), pages)
	}
	prev, err := fc.Previous(ctx, page)
	if err != nil || prev.Matches() != 5 {
		t.Errorf("previous of the last page: %v", err)
	}
	first, err := fc.First(ctx, page)
	if err != nil || first.Matches() != 5 {
		t.Errorf("first page: %v", err)
	}
	last, err := fc.Last(ctx, first)
	if err != nil || last.Matches() != 3 {
		t.Errorf("last page: %v, %d matches", err, last.Matches())
	}
}

func TestSandboxIncludes(t *testing.T) {
	srv := startSized(t, 5)
	fc := readAll(t, srv)
	caps, err := fc.Capabilities(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p, ok := caps.Resource("Patient")
	if !ok || len(p.SearchInclude) == 0 || len(p.SearchRevInclude) == 0 {
		t.Fatalf("the sandbox advertises no Patient includes")
	}
	params := url.Values{"_count": {"3"}, "_include": p.SearchInclude, "_revinclude": p.SearchRevInclude[:1]}
	b, err := fc.Search(t.Context(), "Patient", params)
	if err != nil {
		t.Fatal(err)
	}
	if b.Matches() != 3 {
		t.Errorf("%d matches, want 3", b.Matches())
	}
	included := map[string]int{}
	for _, e := range b.Entries {
		if e.Mode == "include" {
			included[e.ResourceType]++
		}
	}
	revType, _, _ := strings.Cut(p.SearchRevInclude[0], ":")
	if included[revType] == 0 || len(included) < 2 {
		t.Errorf("included %v for %v and %s", included, p.SearchInclude, p.SearchRevInclude[0])
	}
	for typ := range included {
		if rows := fhirclient.Rows(typ, b); len(rows.Rows) != included[typ] {
			t.Errorf("%d %s rows for %d included", len(rows.Rows), typ, included[typ])
		}
	}
	if got := fmt.Sprint(b.ResourceTypes()[0]); got != "Patient" {
		t.Errorf("first type %s", got)
	}
}

func TestSandboxFetchAllAndCancel(t *testing.T) {
	srv := startSized(t, 30)
	fc := readAll(t, srv)
	var last fhirclient.FetchProgress
	b, err := fc.SearchAll(t.Context(), "Patient", url.Values{"_count": {"7"}}, fhirclient.FetchOptions{
		Progress: func(p fhirclient.FetchProgress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	if b.Matches() != 30 || !last.Done || last.Pages != 5 || last.Total == nil || *last.Total != 30 {
		t.Errorf("fetched %d, progress %+v", b.Matches(), last)
	}
	b, err = fc.SearchAll(t.Context(), "Patient", url.Values{"_count": {"7"}}, fhirclient.FetchOptions{Max: 10})
	if err != nil || b.Matches() != 10 || b.Link("next") == "" {
		t.Errorf("up to 10: %v, %d matches", err, b.Matches())
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b, err = fc.SearchAll(ctx, "Patient", url.Values{"_count": {"7"}}, fhirclient.FetchOptions{
		Progress: func(p fhirclient.FetchProgress) {
			if p.Pages == 2 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) || b == nil || b.Matches() != 14 {
		t.Errorf("cancelled fetch: %v, %v", err, b)
	}
}

func TestSandboxDocumentsAndBinary(t *testing.T) {
	srv := startSized(t, 5)
	fc := readAll(t, srv)
	ctx := t.Context()
	b, err := fc.Search(ctx, "DocumentReference", url.Values{"_count": {"5"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Entries) == 0 {
		t.Fatal("no documents")
	}
	for _, e := range b.Entries {
		atts := fhirclient.Attachments(e)
		if len(atts) == 0 {
			t.Fatalf("%s has no attachment", e.Reference())
		}
		for _, a := range atts {
			bc, err := fc.AttachmentContent(ctx, a)
			if err != nil {
				t.Fatalf("%s attachment %q: %v", e.Reference(), a.Title, err)
			}
			if len(bc.Data) == 0 || bc.ContentType == "" {
				t.Errorf("%s attachment %q: %d bytes of %q", e.Reference(), a.Title, len(bc.Data), bc.ContentType)
			}
			if strings.Contains(bc.ContentType, "pdf") && !strings.HasPrefix(string(bc.Data), "%PDF") {
				t.Errorf("%s: the PDF starts %q", e.Reference(), bc.Data[:min(8, len(bc.Data))])
			}
		}
	}
	bins, err := fc.Search(ctx, "Binary", url.Values{"_count": {"1"}})
	if err != nil || len(bins.Entries) == 0 {
		t.Fatalf("Binary search: %v", err)
	}
	bc, err := fc.Binary(ctx, bins.Entries[0].ID)
	if err != nil || len(bc.Data) == 0 {
		t.Fatalf("Binary read: %v", err)
	}
	if got := fhirclient.Rows("Binary", bins).Rows[0][2]; got != fmt.Sprintf("%d bytes", len(bc.Data)) && !strings.Contains(got, ",") {
		t.Errorf("size cell %q for %d bytes", got, len(bc.Data))
	}
}

func TestSandboxReadAndLog(t *testing.T) {
	srv := startSized(t, 3)
	sess := login(t, srv, "medication-access")
	log := fhirclient.NewRequestLog(50)
	fc := fhirclient.NewWithOptions(srv.FHIRBase(), sess.HTTPClient(nil), fhirclient.Options{Log: log})
	ctx := t.Context()
	if _, err := fc.Capabilities(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := fc.Search(ctx, "Patient", url.Values{"_count": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := fc.Read(ctx, "Patient", b.Entries[0].ID)
	if err != nil || e.ID != b.Entries[0].ID {
		t.Fatalf("read: %v", err)
	}
	if _, err := fc.Read(ctx, "Patient", "no-such-patient"); !errors.Is(err, fhirclient.ErrNotFound) {
		t.Errorf("read a missing patient: %v", err)
	}
	tok, err := sess.Token()
	if err != nil {
		t.Fatal(err)
	}
	entries := log.Entries()
	if len(entries) != 4 {
		t.Fatalf("%d log entries", len(entries))
	}
	for _, le := range entries[1:] {
		if !strings.HasPrefix(le.FHIRVersion, "3.0") || le.Status == 0 || le.Bytes == 0 {
			t.Errorf("log entry %+v", le)
		}
		if strings.Contains(fmt.Sprintf("%+v", le), tok.AccessToken) {
			t.Errorf("the log holds the access token")
		}
	}
}
