package fhirclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// hapi imitates HAPI FHIR's paging: a search returns the first page and
// _getpages links for the rest; the search "old" has been evicted.
type hapi struct {
	total int
	mu    sync.Mutex
	urls  []string
}

func (h *hapi) page(w http.ResponseWriter, r *http.Request, base string, offset, count int) {
	var entries []string
	for i := offset; i < min(offset+count, h.total); i++ {
		entries = append(entries, fmt.Sprintf(`{"fullUrl":"%s/Patient/%d","resource":{"resourceType":"Patient","id":"%d","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"999%07d"}],"name":[{"family":"P%d"}]},"search":{"mode":"match"}}`,
			base, i, i, i, i))
	}
	entries = append(entries, `{"resource":{"resourceType":"Organization","id":"gp","name":"GP"},"search":{"mode":"include"}}`)
	link := func(rel string, off int) string {
		return fmt.Sprintf(`{"relation":%q,"url":"%s?_getpages=abc&_getpagesoffset=%d&_count=%d&_format=json&_pretty=true&_bundletype=searchset"}`, rel, base, off, count)
	}
	links := []string{link("self", offset), link("first", 0), link("last", (h.total-1)/count*count)}
	if offset+count < h.total {
		links = append(links, link("next", offset+count))
	}
	if offset > 0 {
		links = append(links, strings.Replace(link("prev", offset-count), "prev", "prev", 1))
	}
	w.Header().Set("Content-Type", ctFHIR)
	fmt.Fprintf(w, `{"resourceType":"Bundle","id":"abc","type":"searchset","total":%d,"link":[%s],"entry":[%s]}`,
		h.total, strings.Join(links, ","), strings.Join(entries, ","))
}

func (h *hapi) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.urls = append(h.urls, r.URL.RawQuery)
	h.mu.Unlock()
	base := "http://" + r.Host + "/fhir"
	q := r.URL.Query()
	count, _ := strconv.Atoi(q.Get("_count"))
	if count == 0 {
		count = 10
	}
	switch {
	case r.URL.Path == "/fhir/Patient":
		h.page(w, r, base, 0, count)
	case r.URL.Path == "/fhir" && q.Get("_getpages") == "abc":
		off, _ := strconv.Atoi(q.Get("_getpagesoffset"))
		h.page(w, r, base, off, count)
	case r.URL.Path == "/fhir" && q.Get("_getpages") != "":
		w.Header().Set("Content-Type", ctFHIR)
		w.WriteHeader(http.StatusGone)
		fmt.Fprint(w, outcomeJSON("error", "processing", "Search ID \""+q.Get("_getpages")+"\" does not exist and may have expired"))
	default:
		http.NotFound(w, r)
	}
}

func TestPaging(t *testing.T) {
	h := &hapi{total: 25}
	fc, srv := stub(t, h.ServeHTTP, Options{})
	ctx := t.Context()
	first, err := fc.Search(ctx, "Patient", url.Values{"_count": {"10"}})
	if err != nil {
		t.Fatal(err)
	}
	if first.Total == nil || *first.Total != 25 || first.Matches() != 10 || len(first.Entries) != 11 {
		t.Fatalf("first page: total %v, %d matches, %d entries", first.Total, first.Matches(), len(first.Entries))
	}
	if _, err := fc.Previous(ctx, first); !errors.Is(err, ErrNoPage) {
		t.Errorf("previous of the first page: %v", err)
	}
	second, err := fc.Next(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if got := Rows("Patient", second).Rows[0][0]; got != "9990000010" {
		t.Errorf("second page starts with %q", got)
	}
	last, err := fc.Last(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if last.Matches() != 5 {
		t.Errorf("last page has %d matches", last.Matches())
	}
	if _, err := fc.Next(ctx, last); !errors.Is(err, ErrNoPage) {
		t.Errorf("next of the last page: %v", err)
	}
	back, err := fc.Previous(ctx, last)
	if err != nil || Rows("Patient", back).Rows[0][0] != "9990000010" {
		t.Errorf("previous of the last page: %v", err)
	}
	if f, err := fc.First(ctx, last); err != nil || Rows("Patient", f).Rows[0][0] != "9990000000" {
		t.Errorf("first: %v", err)
	}
	if rows := Rows("Organization", first); len(rows.Rows) != 1 || rows.Entries[0].Mode != "include" {
		t.Errorf("included Organization rows: %+v", rows)
	}

	// An evicted search.
	_, err = fc.Page(ctx, srv.URL+"/fhir?_getpages=old&_getpagesoffset=10&_count=10")
	if !errors.Is(err, ErrPageExpired) || !strings.Contains(err.Error(), "run the search again") || !strings.Contains(err.Error(), "may have expired") {
		t.Errorf("evicted page: %v", err)
	}
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 410 {
		t.Errorf("evicted page error %T %v", err, err)
	}
	// A paging link answered 404 is an expired search too.
	_, err = fc.Page(ctx, srv.URL+"/fhir/nowhere?page=2")
	if !errors.Is(err, ErrPageExpired) {
		t.Errorf("404 paging link: %v", err)
	}
	if _, err := fc.Page(ctx, ""); !errors.Is(err, ErrNoPage) {
		t.Errorf("empty link: %v", err)
	}
}

func TestSearchAll(t *testing.T) {
	tests := []struct {
		name        string
		total, max  int
		wantMatches int
		wantPages   int
	}{
		{"to the end", 25, 0, 25, 3},
		{"up to N", 25, 15, 15, 2},
		{"exactly a page", 25, 10, 10, 1},
		{"one page", 7, 0, 7, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc, _ := stub(t, (&hapi{total: tc.total}).ServeHTTP, Options{})
			var progress []FetchProgress
			b, err := fc.SearchAll(t.Context(), "Patient", url.Values{"_count": {"10"}}, FetchOptions{Max: tc.max,
				Progress: func(p FetchProgress) { progress = append(progress, p) }})
			if err != nil {
				t.Fatal(err)
			}
			if b.Matches() != tc.wantMatches || len(Rows("Patient", b).Rows) != tc.wantMatches {
				t.Errorf("%d matches, want %d", b.Matches(), tc.wantMatches)
			}
			last := progress[len(progress)-1]
			if !last.Done || last.Pages != tc.wantPages || last.Matches != tc.wantMatches || last.Total == nil || *last.Total != tc.total {
				t.Errorf("last progress %+v", last)
			}
			ids := map[string]bool{}
			for _, e := range b.Entries {
				if e.ResourceType == "Patient" {
					if ids[e.ID] {
						t.Errorf("patient %s twice", e.ID)
					}
					ids[e.ID] = true
				}
			}
		})
	}
}

func TestSearchAllCancel(t *testing.T) {
	fc, _ := stub(t, (&hapi{total: 100}).ServeHTTP, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b, err := fc.SearchAll(ctx, "Patient", url.Values{"_count": {"10"}}, FetchOptions{Progress: func(p FetchProgress) {
		if p.Pages == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if b == nil || b.Matches() != 30 {
		t.Fatalf("partial result %v", b)
	}
}

func TestSearchAllLoop(t *testing.T) {
	fc, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctFHIR)
		fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"http://%s/fhir/Patient?page=2"}],"entry":[{"resource":{"resourceType":"Patient","id":"1"}}]}`, r.Host)
	}, Options{})
	b, err := fc.SearchAll(t.Context(), "Patient", nil, FetchOptions{})
	if !errors.Is(err, ErrPagingLoop) || b.Matches() != 2 {
		t.Fatalf("error %v, %d matches", err, b.Matches())
	}
}

func TestSearchEncoding(t *testing.T) {
	var raw string
	fc, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
		raw = r.URL.RawQuery
		w.Header().Set("Content-Type", ctFHIR)
		fmt.Fprint(w, emptyBundle())
	}, Options{})
	params := url.Values{}
	params.Add("identifier", Token("https://fhir.nhs.uk/Id/nhs-number", "9990000018"))
	params.Add(Param("name", "exact"), "O'Brien, Mary")
	params.Add("birthdate", DateParam(PrefixGe, "1990-01-01T00:00:00+01:00"))
	params.Add("birthdate", DateParam(PrefixLe, "2000-12-31"))
	params.Add("_count", "50")
	params.Add("_include", "Patient:general-practitioner")
	params.Add("_include", "Patient:organization")
	params.Add("_revinclude", "Observation:patient")
	params.Add("code", Token("http://snomed.info/sct", "a,b|c"))
	if _, err := fc.Search(t.Context(), "Patient", params); err != nil {
		t.Fatal(err)
	}
	want := "_count=50&_include=Patient:general-practitioner&_include=Patient:organization&_revinclude=Observation:patient" +
		"&birthdate=ge1990-01-01T00:00:00%2B01:00&birthdate=le2000-12-31" +
		`&code=http://snomed.info/sct%7Ca%5C,b%5C%7Cc` +
		"&identifier=https://fhir.nhs.uk/Id/nhs-number%7C9990000018&name:exact=O'Brien,%20Mary"
	if raw != want {
		t.Errorf("query\n %s\nwant\n %s", raw, want)
	}
	got, _ := url.ParseQuery(raw)
	if got.Get("code") != `http://snomed.info/sct|a\,b\|c` || got["birthdate"][0] != "ge1990-01-01T00:00:00+01:00" {
		t.Errorf("decoded %v", got)
	}
	if fc.SearchURL("Patient", nil) != fc.Base()+"/Patient" {
		t.Errorf("SearchURL %s", fc.SearchURL("Patient", nil))
	}
}

func TestOutcomeEntries(t *testing.T) {
	data := []byte(`{"resourceType":"Bundle","type":"searchset","total":1,"entry":[
		{"resource":{"resourceType":"Patient","id":"1"},"search":{"mode":"match"}},
		{"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"too-costly","diagnostics":"Results limited to 500","location":["Bundle"]},
			{"severity":"information","code":"informational","details":{"text":"Unknown parameter foo ignored"}}]},"search":{"mode":"outcome"}}]}`)
	b, err := DecodeBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Warnings) != 2 {
		t.Fatalf("warnings %+v", b.Warnings)
	}
	w := b.Warnings[0]
	if w.Source != SourceServer || w.Severity != "warning" || w.Code != "too-costly" || w.Message != "Results limited to 500" || w.Location != "Bundle" {
		t.Errorf("warning %+v", w)
	}
	if b.Warnings[1].Message != "Unknown parameter foo ignored" {
		t.Errorf("warning %+v", b.Warnings[1])
	}
	if b.Matches() != 1 || len(Rows("Patient", b).Rows) != 1 {
		t.Errorf("outcome entries count as matches")
	}
	if s := w.String(); !strings.Contains(s, "warning") || !strings.Contains(s, "Results limited") {
		t.Errorf("String() = %q", s)
	}
}

func TestDecodeBundleErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
		is   error
	}{
		{`[]`, "not an object", ErrNotBundle},
		{`{"id":"x"}`, "no resourceType", ErrNotBundle},
		{`{"resourceType":"Patient"}`, `"Patient"`, ErrNotBundle},
		{outcomeJSON("error", "processing", "boom"), "boom", ErrNotBundle},
		{`{"resourceType":"Bundle","entry":[`, "truncated", errSyntax},
		{`{"resourceType":"Bundle",}`, "invalid JSON at byte 25", errSyntax},
	}
	for _, tc := range tests {
		_, err := DecodeBundle([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.is) {
			t.Errorf("DecodeBundle(%s) = %v, want %q", tc.in, err, tc.want)
		}
	}
	b, err := DecodeBundle([]byte(`{"resourceType":"Bundle","total":"many","link":[{"relation":"prev","url":"u"}],"entry":[{"request":{"method":"DELETE"}},{"resource":[1]},{"resource":{"id":"x"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if b.Total != nil || len(b.Warnings) != 1 || b.Link("previous") != "u" || b.Link("prev") != "u" {
		t.Errorf("bundle %+v", b)
	}
	want := []string{"the entry has no resource", "the entry's resource is not a JSON object", "the resource has no resourceType"}
	for i, e := range b.Entries {
		ws := e.Warnings()
		if len(ws) == 0 || ws[0].Message != want[i] {
			t.Errorf("entry %d warnings %+v", i, ws)
		}
		if _, err := e.Parse(); err == nil {
			t.Errorf("entry %d parsed", i)
		}
	}
	if string(b.Entries[1].Resource) != "[1]" {
		t.Errorf("odd resource kept as %s", b.Entries[1].Resource)
	}
}

func TestValidateCancel(t *testing.T) {
	b, err := DecodeBundle(searchset(50, patientJSON))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err = b.Validate(ctx, func(done, total int) {
		calls++
		if done == 5 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || calls >= 50 {
		t.Errorf("Validate after cancel: %v after %d calls", err, calls)
	}
	parsed := 0
	for _, e := range b.Entries {
		if e.Parsed() {
			parsed++
		}
	}
	if parsed < 5 || parsed == 50 {
		t.Errorf("%d of 50 entries parsed", parsed)
	}
}

func TestVersionOf(t *testing.T) {
	tests := []struct {
		in   string
		want Version
		err  bool
	}{
		{"3.0.1", STU3, false}, {"3.0.2", STU3, false}, {"1.0.2", STU3, false}, {"4.0.1", R4, false},
		{"4.0.0", R4, false}, {"5.0.0", VersionUnknown, true}, {"", VersionUnknown, true},
	}
	for _, tc := range tests {
		got, err := VersionOf(tc.in)
		if got != tc.want || (err != nil) != tc.err || (err != nil && !errors.Is(err, ErrUnsupportedVersion)) {
			t.Errorf("VersionOf(%q) = %q, %v", tc.in, got, err)
		}
	}
}

// ccriCapabilities is shaped like the CCRI's statement, including its
// malformed security service coding (an object, not an array).
const ccriCapabilities = `{"resourceType":"CapabilityStatement","status":"active","date":"2019-02-11T10:00:00+00:00","publisher":"NHS Digital","kind":"instance",
"software":{"name":"Care Connect Reference Implementation","version":"3.7.1"},"implementation":{"description":"Care Connect RI","url":"https://data.developer.nhs.uk/ccri-fhir/STU3"},
"fhirVersion":"3.0.1","format":["application/fhir+xml","application/fhir+json"],
"rest":[{"mode":"server","security":{"extension":[{"url":"http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris","extension":[
{"url":"authorize","valueUri":"https://data.developer.nhs.uk/ccri-auth/authorize"},{"url":"token","valueUri":"https://data.developer.nhs.uk/ccri-auth/token"},
{"url":"register","valueUri":"https://data.developer.nhs.uk/ccri-auth/register"}]}],"cors":true,
"service":[{"coding":{"system":"http://hl7.org/fhir/restful-security-service","code":"SMART-on-FHIR"}}]},
"resource":[{"type":"Patient","profile":{"reference":"https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1"},
"interaction":[{"code":"read"},{"code":"search-type"}],
"searchInclude":["Patient:general-practitioner","Patient:organization"],"searchRevInclude":["Observation:patient","Encounter:patient"],
"searchParam":[{"name":"identifier","type":"token","documentation":"A patient identifier (NHS number: https://fhir.nhs.uk/Id/nhs-number|9999999999)"},
{"name":"birthdate","type":"date","documentation":"The patient's date of birth"},{"name":"name","type":"string"}]},
{"type":"Observation","interaction":[{"code":"read"},{"code":"search-type"}],"searchParam":[{"name":"code","type":"token"},{"name":"date","type":"date"},{"name":"patient","type":"reference"}]},
{"type":"Binary","interaction":[{"code":"read"}]}],
"interaction":[{"code":"transaction"}],"operation":[{"name":"validate","definition":{"reference":"OperationDefinition/Resource-validate"}}]}]}`

func TestCapabilities(t *testing.T) {
	var r4 bool
	fc, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctFHIR)
		switch r.URL.Path {
		case "/fhir/metadata":
			if r4 {
				fmt.Fprint(w, `{"resourceType":"CapabilityStatement","fhirVersion":"4.0.1","rest":[{"mode":"server","resource":[{"type":"Condition","supportedProfile":["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Condition"]}]}]}`)
				return
			}
			fmt.Fprint(w, ccriCapabilities)
		case "/fhir/Condition":
			fmt.Fprint(w, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Condition","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"subject":{"reference":"Patient/1"}}}]}`)
		}
	}, Options{})
	caps, err := fc.Capabilities(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if caps.FHIRVersion != "3.0.1" || caps.Version != STU3 || fc.Version() != STU3 || fc.FHIRVersion() != "3.0.1" {
		t.Errorf("version %q %q, client %q", caps.FHIRVersion, caps.Version, fc.Version())
	}
	if caps.Software.Name != "Care Connect Reference Implementation" || caps.Software.Version != "3.7.1" || caps.Implementation.URL == "" {
		t.Errorf("software %+v implementation %+v", caps.Software, caps.Implementation)
	}
	if !caps.Security.CORS || fmt.Sprint(caps.Security.Services) != "[SMART-on-FHIR]" ||
		caps.Security.OAuth.Token != "https://data.developer.nhs.uk/ccri-auth/token" || caps.Security.OAuth.Authorize == "" || caps.Security.OAuth.Register == "" {
		t.Errorf("security %+v", caps.Security)
	}
	if len(caps.Warnings) != 1 || !strings.Contains(caps.Warnings[0].Location, "service.coding") {
		t.Errorf("warnings %+v", caps.Warnings)
	}
	if fmt.Sprint(caps.ResourceTypes()) != "[Patient Observation Binary]" {
		t.Errorf("types %v", caps.ResourceTypes())
	}
	p, ok := caps.Resource("Patient")
	if !ok || !p.Supports("search-type") || p.Supports("create") || p.Profile != "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1" {
		t.Fatalf("Patient %+v", p)
	}
	if sp, ok := p.SearchParam("identifier"); !ok || sp.Type != "token" || !strings.Contains(sp.Documentation, "NHS number") {
		t.Errorf("identifier parameter %+v", sp)
	}
	if fmt.Sprint(p.SearchInclude) != "[Patient:general-practitioner Patient:organization]" || len(p.SearchRevInclude) != 2 {
		t.Errorf("includes %v %v", p.SearchInclude, p.SearchRevInclude)
	}
	if fmt.Sprint(caps.Interactions) != "[transaction]" || fmt.Sprint(caps.Operations) != "[validate]" {
		t.Errorf("system interactions %v operations %v", caps.Interactions, caps.Operations)
	}
	if _, ok := caps.Resource("Flag"); ok {
		t.Errorf("Flag found")
	}

	// An R4 server: entries are parsed with the R4 parser.
	r4 = true
	if caps, err = fc.Capabilities(t.Context()); err != nil || caps.Version != R4 || fc.Version() != R4 {
		t.Fatalf("R4: %v %+v", err, caps)
	}
	b, err := fc.Search(t.Context(), "Condition", nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != R4 || b.Entries[0].Version() != R4 {
		t.Errorf("bundle version %q", b.Version)
	}
	if _, err := b.Entries[0].Parse(); err != nil {
		t.Errorf("an R4 Condition does not parse as R4: %v", err)
	}
	if got := Rows("Condition", b).Rows[0][1]; got != "active" {
		t.Errorf("clinical status %q", got)
	}
}

func TestDecodeCapabilities(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{`{"resourceType":"Patient"}`, "not a CapabilityStatement"},
		{`{"resourceType":"CapabilityStatement"`, "truncated"},
	} {
		if _, err := DecodeCapabilities([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeCapabilities(%s) = %v", tc.in, err)
		}
	}
	c, err := DecodeCapabilities([]byte(`{"resourceType":"Conformance","fhirVersion":"5.0.0","rest":{"resource":{"type":"Patient","interaction":{"code":"read"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != VersionUnknown || len(c.Resources) != 1 || !c.Resources[0].Supports("read") || len(c.Warnings) != 3 {
		t.Errorf("caps %+v", c)
	}
}

func TestReadBinaryAndAttachments(t *testing.T) {
	fc, srv := stub(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSON := strings.Contains(r.Header.Get("Accept"), "fhir+json")
		switch r.URL.Path {
		case "/fhir/Patient/1":
			w.Header().Set("Content-Type", ctFHIR)
			fmt.Fprint(w, `{"resourceType":"Patient","id":"1","meta":{"profile":["https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1"]},"gender":"male"}`)
		case "/fhir/Patient/9":
			w.Header().Set("Content-Type", ctFHIR)
			w.WriteHeader(404)
			fmt.Fprint(w, outcomeJSON("error", "not-found", "Patient/9 is not known"))
		case "/fhir/Binary/stu3":
			w.Header().Set("Content-Type", ctFHIR)
			fmt.Fprint(w, `{"resourceType":"Binary","id":"stu3","contentType":"application/pdf","content":"JVBERi0xLjQ="}`)
		case "/fhir/Binary/r4":
			w.Header().Set("Content-Type", ctFHIR)
			fmt.Fprint(w, `{"resourceType":"Binary","id":"r4","contentType":"text/plain","data":"aGVsbG8"}`)
		case "/fhir/Binary/raw":
			w.Header().Set("Content-Type", "application/pdf")
			fmt.Fprint(w, "%PDF-1.4 raw")
		case "/fhir/Binary/neg":
			if fhirJSON {
				w.Header().Set("Content-Type", ctFHIR)
				fmt.Fprint(w, `{"resourceType":"Binary","contentType":"text/plain","content":"bmVnb3RpYXRlZA=="}`)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "raw")
		case "/fhir/Binary/bad":
			w.Header().Set("Content-Type", ctFHIR)
			fmt.Fprint(w, `{"resourceType":"Binary","contentType":"text/plain","content":"!!!"}`)
		case "/docs/letter.txt":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "Dear Dr")
		}
	}, Options{})
	ctx := t.Context()
	e, err := fc.Read(ctx, "Patient", "1")
	if err != nil {
		t.Fatal(err)
	}
	if e.ResourceType != "Patient" || e.ID != "1" || e.Version() != STU3 || !strings.HasSuffix(e.FullURL, "/fhir/Patient/1") {
		t.Errorf("entry %+v", e)
	}
	if cols := ColumnsFor("Patient"); cols[2].Cell(*e) != "male" {
		t.Errorf("gender cell %q", cols[2].Cell(*e))
	}
	if _, err := fc.Read(ctx, "Patient", "9"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "Patient/9 is not known") {
		t.Errorf("read missing: %v", err)
	}
	if _, err := fc.Read(ctx, "Patient", "../x"); err == nil {
		t.Errorf("a bad id was read")
	}
	if e, err := fc.ReadReference(ctx, "Patient/1"); err != nil || e.ID != "1" {
		t.Errorf("ReadReference relative: %v", err)
	}
	if e, err := fc.ReadReference(ctx, srv.URL+"/fhir/Patient/1"); err != nil || e.ID != "1" {
		t.Errorf("ReadReference absolute: %v", err)
	}
	for _, ref := range []string{"", "#c1", "urn:uuid:1234"} {
		if _, err := fc.ReadReference(ctx, ref); err == nil {
			t.Errorf("ReadReference(%q) succeeded", ref)
		}
	}

	binaries := []struct{ id, ct, data string }{
		{"stu3", "application/pdf", "%PDF-1.4"},
		{"r4", "text/plain", "hello"},
		{"raw", "application/pdf", "%PDF-1.4 raw"},
		{"neg", "text/plain", "negotiated"},
	}
	for _, b := range binaries {
		bc, err := fc.Binary(ctx, b.id)
		if err != nil {
			t.Errorf("Binary %s: %v", b.id, err)
			continue
		}
		if bc.ContentType != b.ct || string(bc.Data) != b.data {
			t.Errorf("Binary %s: %q %q", b.id, bc.ContentType, bc.Data)
		}
	}
	if _, err := fc.Binary(ctx, "bad"); !errors.Is(err, ErrNotFHIR) {
		t.Errorf("bad base64: %v", err)
	}

	doc := []byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"DocumentReference","status":"current","content":[
		{"attachment":{"contentType":"text/plain","title":"inline","data":"aW5saW5l","size":6}},
		{"attachment":{"contentType":"application/pdf","title":"relative","url":"Binary/stu3"}},
		{"attachment":{"contentType":"text/plain","title":"absolute","url":"` + srv.URL + `/docs/letter.txt"}},
		{"attachment":{"title":"broken","data":"%%%"}},
		{"attachment":{"title":"nothing"}},
		{"attachment":{"title":"in bundle","url":"urn:uuid:5"}}]}}]}`)
	b, err := DecodeBundle(doc)
	if err != nil {
		t.Fatal(err)
	}
	atts := Attachments(b.Entries[0])
	if len(atts) != 6 || atts[0].Size != 6 || atts[1].Size != -1 {
		t.Fatalf("attachments %+v", atts)
	}
	want := []struct{ ct, data string }{{"text/plain", "inline"}, {"application/pdf", "%PDF-1.4"}, {"text/plain", "Dear Dr"}}
	for i, w := range want {
		bc, err := fc.AttachmentContent(ctx, atts[i])
		if err != nil || bc.ContentType != w.ct || string(bc.Data) != w.data {
			t.Errorf("attachment %s: %v %+v", atts[i].Title, err, bc)
		}
	}
	for _, a := range atts[3:] {
		if _, err := fc.AttachmentContent(ctx, a); err == nil {
			t.Errorf("attachment %s fetched", a.Title)
		}
	}
}

func TestOffline(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, content string
		wantErr       error
		wantMsg       string
		wantEntries   int
		wantVersion   Version
	}{
		{"bundle.json", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"1"}},{"resource":{"resourceType":"Observation","id":"2"}}]}`, nil, "", 2, VersionUnknown},
		{"patient.json", "\xef\xbb\xbf" + `{"resourceType":"Patient","id":"1","meta":{"profile":["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]}}`, nil, "", 1, R4},
		{"obs.xml", `<?xml version="1.0"?><Observation xmlns="http://hl7.org/fhir"/>`, ErrXMLNotSupported, "XML is not supported yet", 0, ""},
		{"obs.json", `<Observation xmlns="http://hl7.org/fhir"/>`, ErrXMLNotSupported, "XML is not supported yet", 0, ""},
		{"empty.json", "  \n", nil, "empty", 0, ""},
		{"config.json", `{"name":"x"}`, ErrNotFHIR, "no resourceType", 0, ""},
		{"broken.json", `{"resourceType":"Patient",`, ErrNotFHIR, "truncated", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := OpenFile(write(tc.name, tc.content))
			if tc.wantMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantMsg) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("error %v, want %q", err, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Entries) != tc.wantEntries || b.Version != tc.wantVersion || !strings.HasSuffix(b.Source, tc.name) {
				t.Errorf("bundle: %d entries, version %q, source %q", len(b.Entries), b.Version, b.Source)
			}
			for _, typ := range b.ResourceTypes() {
				if len(Rows(typ, b).Rows) == 0 {
					t.Errorf("no %s rows", typ)
				}
			}
		})
	}
	if _, err := OpenFile(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestParseJSONErrors(t *testing.T) {
	tests := []struct {
		in  string
		eof bool
	}{
		{`{"a":`, true}, {`[1,`, true}, {`"abc`, true}, {`tru`, true}, {`{"a":1`, true}, {`-`, true}, {`1.`, true}, {`"\u12`, true},
		{`{"a" 1}`, false}, {`[1 2]`, false}, {`01`, false}, {`"\x"`, false}, {"\"a\x01\"", false}, {`nul!`, false}, {`{a:1}`, false},
		{`1e`, true}, {`[1]]`, false}, {`{"a":1,}`, false}, {`+1`, false}, {`"\u+123"`, false},
	}
	for _, tc := range tests {
		_, err := parseJSON(tc.in)
		var se *syntaxError
		if !errors.As(err, &se) {
			t.Errorf("parseJSON(%q) = %v", tc.in, err)
			continue
		}
		if se.eof != tc.eof {
			t.Errorf("parseJSON(%q): eof %v, %v", tc.in, se.eof, err)
		}
	}
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	if _, err := parseJSON(deep); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("deep nesting: %v", err)
	}
	for _, s := range []string{`{"a":[1,{"b":null}],"c":"\ud83d\ude00\u00e9\n","d":-1.5e3,"e":true}`, `"plain"`, `  []  `} {
		checkTree(t, []byte(s))
	}
}
