package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

// TestSearchParseURL reads the query URL back into a type and parameters.
func TestSearchParseURL(t *testing.T) {
	const base = "http://fhir.test/STU3"
	tests := []struct {
		raw     string
		typ     string
		params  url.Values
		wantErr string
	}{
		{raw: base + "/Patient?family=Smith&_count=20", typ: "Patient", params: url.Values{"family": {"Smith"}, "_count": {"20"}}},
		{raw: "Observation?patient=Patient/1&code=http://loinc.org%7C8867-4", typ: "Observation",
			params: url.Values{"patient": {"Patient/1"}, "code": {"http://loinc.org|8867-4"}}},
		{raw: "  " + base + "/Patient  ", typ: "Patient", params: url.Values{}},
		{raw: base + "/Patient?birthdate=ge1980&birthdate=le1990", typ: "Patient", params: url.Values{"birthdate": {"ge1980", "le1990"}}},
		{raw: "Observation?date=ge2019-05-01T10:00:00+01:00", typ: "Observation", params: url.Values{"date": {"ge2019-05-01T10:00:00+01:00"}}},
		{raw: "", wantErr: "the query is empty"},
		{raw: "http://elsewhere.test/STU3/Patient", wantErr: "the query must start with the server's address"},
		{raw: base + "/Patient/1", wantErr: "the query must name one resource type"},
		{raw: base + "/Patient?a=%zz", wantErr: "the query's parameters do not parse"},
	}
	for _, tt := range tests {
		typ, params, err := searchParseURL(base, tt.raw)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("searchParseURL(%q) error = %v, want %q", tt.raw, err, tt.wantErr)
			}
			continue
		}
		if err != nil || typ != tt.typ || !searchSameValues(params, tt.params) {
			t.Errorf("searchParseURL(%q) = %q, %v, %v; want %q, %v", tt.raw, typ, params, err, tt.typ, tt.params)
		}
	}
}

func searchSameValues(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestSearchFieldValues turns what was typed into search values, or says
// what is wrong with it.
func TestSearchFieldValues(t *testing.T) {
	test.NewTempApp(t)
	tests := []struct {
		param   fhirclient.SearchParam
		key     string
		prefix  string
		typed   string
		want    string
		wantErr string
	}{
		{param: fhirclient.SearchParam{Name: "identifier", Type: "token"}, key: searchNHSNumber, typed: "943 476 5919",
			want: "https://fhir.nhs.uk/Id/nhs-number|9434765919"},
		{param: fhirclient.SearchParam{Name: "identifier", Type: "token"}, key: searchNHSNumber, typed: "12345", wantErr: "an NHS number has 10 digits"},
		{param: fhirclient.SearchParam{Name: "birthdate", Type: "date"}, key: "birthdate", typed: "1980-02-14", want: "1980-02-14"},
		{param: fhirclient.SearchParam{Name: "birthdate", Type: "date"}, key: "birthdate", prefix: "before", typed: "1980", want: "lt1980"},
		{param: fhirclient.SearchParam{Name: "date", Type: "date"}, key: "date", prefix: "from", typed: "2019-05-01T10:00:00Z", want: "ge2019-05-01T10:00:00Z"},
		{param: fhirclient.SearchParam{Name: "birthdate", Type: "date"}, key: "birthdate", typed: "14/02/1980", wantErr: "write the date as YYYY"},
		{param: fhirclient.SearchParam{Name: "family", Type: "string"}, key: "family", typed: "  O'Brien ", want: "O'Brien"},
		{param: fhirclient.SearchParam{Name: "length", Type: "number"}, key: "length", typed: "ten", wantErr: "is not a number"},
		{param: fhirclient.SearchParam{Name: "gender", Type: "token"}, key: "gender", typed: "", want: ""},
	}
	for _, tt := range tests {
		f := newSearchField(tt.param, tt.key, func() {})
		if tt.prefix != "" {
			f.prefix.SetSelected(tt.prefix)
		}
		f.entry.SetText(tt.typed)
		got, err := f.value()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s %q: error %v, want %q", tt.key, tt.typed, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s %q = %q, %v; want %q", tt.key, tt.typed, got, err, tt.want)
		}
		// Filling the field from its value gives the same value back.
		g := newSearchField(tt.param, tt.key, func() {})
		g.setValue(got)
		if again, _ := g.value(); again != got {
			t.Errorf("%s: setValue(%q) reads back as %q", tt.key, got, again)
		}
	}
}

// TestSearchFormFields builds forms from capabilities, and from nothing
// while the capabilities load.
func TestSearchFormFields(t *testing.T) {
	test.NewTempApp(t)
	caps, err := fhirclient.DecodeCapabilities([]byte(browserCaps))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		typ        string
		caps       *fhirclient.Capabilities
		common     string
		more       string
		includes   []string
		revInclude []string
	}{
		{typ: "Patient", caps: caps, common: "nhs-number family given birthdate gender address-postalcode",
			more: "_id identifier name telecom", includes: []string{"Patient:general-practitioner"}, revInclude: []string{"Observation:patient"}},
		{typ: "Observation", caps: caps, common: "patient code category date status", includes: []string{"Observation:patient"}},
		{typ: "Organization", caps: caps, common: "name"},
		{typ: "Patient", common: "nhs-number family given birthdate gender address-postalcode", more: "identifier"},
		{typ: "Condition", common: "patient code clinical-status category asserted-date"},
	}
	for _, tt := range tests {
		f := newSearchForm(tt.typ, tt.caps, func() {})
		var common, more []string
		for _, fd := range f.common {
			common = append(common, fd.key)
		}
		for _, fd := range f.more {
			more = append(more, fd.key)
		}
		if got := strings.Join(common, " "); got != tt.common {
			t.Errorf("%s (caps %v): common %q, want %q", tt.typ, tt.caps != nil, got, tt.common)
		}
		if got := strings.Join(more, " "); got != tt.more {
			t.Errorf("%s (caps %v): more %q, want %q", tt.typ, tt.caps != nil, got, tt.more)
		}
		inc, rev := f.include.options(), f.revInclude.options()
		if !slices.Equal(inc, tt.includes) || !slices.Equal(rev, tt.revInclude) {
			t.Errorf("%s: includes %v %v, want %v %v", tt.typ, inc, rev, tt.includes, tt.revInclude)
		}
		q, err := f.params()
		if err != nil || q.Encode() != "_count=50" {
			t.Errorf("%s: an empty form searches %v (%v), want _count=50", tt.typ, q, err)
		}
	}
	if gender := newSearchForm("Patient", caps, func() {}).field("gender"); gender.choice == nil {
		t.Error("gender offers no choice of codes")
	}
}

// TestSearchCodes finds the codes a token parameter offers.
func TestSearchCodes(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"gender", "Administrative gender: male | female | other | unknown", []string{"male", "female", "other", "unknown"}},
		{"gender", "The gender of the patient", []string{"male", "female", "other", "unknown"}},
		{"category", "Category: vital-signs | social-history", []string{"vital-signs", "social-history"}},
		{"status", "registered | preliminary | final | amended", []string{"registered", "preliminary", "final", "amended"}},
		{"code", "A code (system|code)", nil},
		{"x", "A | B", nil},
	}
	for _, tt := range tests {
		if got := searchCodes(fhirclient.SearchParam{Name: tt.name, Documentation: tt.doc}); !slices.Equal(got, tt.want) {
			t.Errorf("searchCodes(%s, %q) = %v, want %v", tt.name, tt.doc, got, tt.want)
		}
	}
}

// TestSearchCurl quotes the command for a POSIX shell.
func TestSearchCurl(t *testing.T) {
	tests := []struct{ url, token, want string }{
		{"http://x/Patient?family=O'Brien", "",
			`curl -sS -H 'Accept: application/fhir+json' -H "Authorization: Bearer $TOKEN" 'http://x/Patient?family=O'\''Brien'`},
		{"http://x/Patient", "abc.def",
			`curl -sS -H 'Accept: application/fhir+json' -H 'Authorization: Bearer abc.def' 'http://x/Patient'`},
	}
	for _, tt := range tests {
		if got := searchCurl(tt.url, tt.token); got != tt.want {
			t.Errorf("searchCurl(%q) =\n%s\nwant\n%s", tt.url, got, tt.want)
		}
	}
}

// TestSearchEditedURL runs the query URL as the user typed it, even when
// it names another type than the form.
func TestSearchEditedURL(t *testing.T) {
	h := newBrowserHarness(t, nil)
	s := browserPatientStub()
	var got url.Values
	s.handle("/STU3/Organization", func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Query()
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(browserSearchset(1, nil, `{"resourceType":"Organization","id":"B82001","name":"Leeds Practice"}`)))
	})
	c, caps := s.client(t)
	h.b.setSource(c, caps)
	h.b.openType("Patient")
	h.waitShown()
	h.b.queryURL.SetText(browserStubBase + "/Organization?name=Leeds%20P")
	test.Tap(h.b.search)
	h.waitShown()
	if got.Get("name") != "Leeds P" {
		t.Errorf("the server got %v", got)
	}
	if h.b.data.ResourceType != "Organization" {
		t.Errorf("rows of %s, want Organization", h.b.data.ResourceType)
	}
	// Editing the form again replaces the typed query.
	h.typeInto(h.b.form.field("family").entry, "Smith")
	if want := browserStubBase + "/Patient?_count=50&family=Smith"; h.b.queryURL.Text != want {
		t.Errorf("query = %q, want %q", h.b.queryURL.Text, want)
	}
}
