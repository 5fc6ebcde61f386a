package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

// browserHangGuard bounds every wait in these tests: it catches a hang, it
// does not time anything.
const browserHangGuard = 2 * time.Minute

// browserStubBase is the stub server's FHIR base. The stub is served in
// process by browserTransport, so its URLs (and the goldens) never carry a
// random port.
const browserStubBase = "http://fhir.test/STU3"

// ccriFixtures is where the CCRI's own example resources are.
const ccriFixtures = "../../shared/fixtures/careconnect-stu3/ccri"

// browserAnswer is one OnServerAnswer call.
type browserAnswer struct {
	resourceType string
	status       int
	err          error
}

// browserHarness is a browser in a test window, with its hooks turned into
// channels.
type browserHarness struct {
	t        *testing.T
	b        *browser
	w        fyne.Window
	shown    chan struct{}
	details  chan struct{}
	pages    chan int
	exported chan error
	stale    chan struct{}
	answers  chan browserAnswer
	logs     chan string
}

// newBrowserHarness puts a browser in a 1200×800 test window.
func newBrowserHarness(t *testing.T, token func() string) *browserHarness {
	t.Helper()
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	h := &browserHarness{t: t, w: w,
		shown: make(chan struct{}, 16), details: make(chan struct{}, 16), pages: make(chan int, 64),
		exported: make(chan error, 16), stale: make(chan struct{}, 64), answers: make(chan browserAnswer, 64),
		logs: make(chan string, 256)}
	h.b = newBrowser(w, browserOptions{
		OnServerAnswer: func(rt string, status int, err error) {
			h.answers <- browserAnswer{rt, status, err}
		},
		Logf: func(format string, args ...any) {
			select {
			case h.logs <- fmt.Sprintf(format, args...):
			default:
			}
		},
		Token: token,
	})
	signal := func(ch chan struct{}) func() {
		return func() {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
	h.b.onShown = signal(h.shown)
	h.b.onDetails = signal(h.details)
	h.b.onStale = signal(h.stale)
	h.b.onPage = func(n int) { h.pages <- n }
	h.b.onExported = func(_ string, err error) { h.exported <- err }
	t.Cleanup(h.b.close)
	w.SetContent(h.b.object())
	w.Resize(fyne.NewSize(1200, 800))
	return h
}

// wait waits for a signal on ch.
func browserWait[T any](h *browserHarness, ch chan T, what string) T {
	h.t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(browserHangGuard):
		h.t.Fatalf("%s never happened (a hang guard, not a timing check)", what)
	}
	var zero T
	return zero
}

func (h *browserHarness) waitShown() { h.t.Helper(); browserWait(h, h.shown, "the result being shown") }
func (h *browserHarness) waitDetails() {
	h.t.Helper()
	browserWait(h, h.details, "the details being shown")
}

// typeInto focuses an entry, as a click would, and types text into it.
func (h *browserHarness) typeInto(e *widget.Entry, text string) {
	h.w.Canvas().Focus(e)
	test.Type(e, text)
}

// answer waits for an OnServerAnswer call.
func (h *browserHarness) answer() browserAnswer {
	h.t.Helper()
	return browserWait(h, h.answers, "an answer from the server")
}

// browserTransport serves requests with a handler in process.
type browserTransport struct{ h http.Handler }

func (t browserTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	res := rec.Result()
	res.Request = r
	return res, nil
}

// browserStub is a FHIR server serving fixed JSON by path.
type browserStub struct {
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
}

func newBrowserStub() *browserStub {
	s := &browserStub{routes: map[string]http.HandlerFunc{}}
	s.json("/STU3/metadata", http.StatusOK, browserCaps)
	return s
}

// handle serves path with fn.
func (s *browserStub) handle(path string, fn http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[path] = fn
}

// json serves path with a fixed status and body.
func (s *browserStub) json(path string, status int, body string) {
	s.handle(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

func (s *browserStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	fn := s.routes[r.URL.Path]
	s.mu.Unlock()
	if fn == nil {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(browserOutcome("error", "not-found", "No route for "+r.URL.Path)))
		return
	}
	fn(w, r)
}

// client returns a client of the stub, with its capabilities read.
func (s *browserStub) client(t *testing.T) (*fhirclient.Client, *fhirclient.Capabilities) {
	t.Helper()
	c := fhirclient.NewWithOptions(browserStubBase, &http.Client{Transport: browserTransport{s}},
		fhirclient.Options{Now: func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }})
	caps, err := c.Capabilities(context.Background())
	if err != nil {
		t.Fatalf("stub capabilities: %v", err)
	}
	return c, caps
}

// browserCaps is the stub's CapabilityStatement.
const browserCaps = `{"resourceType":"CapabilityStatement","status":"active","kind":"instance","fhirVersion":"3.0.1",
"format":["application/fhir+json"],"rest":[{"mode":"server","resource":[
{"type":"Patient","interaction":[{"code":"read"},{"code":"search-type"}],"searchParam":[
 {"name":"_id","type":"token","documentation":"Logical id of the resource"},
 {"name":"identifier","type":"token","documentation":"A patient identifier"},
 {"name":"family","type":"string","documentation":"Family name (starts with)"},
 {"name":"given","type":"string","documentation":"Given name (starts with)"},
 {"name":"birthdate","type":"date","documentation":"Date of birth (prefixes eq, ne, gt, lt, ge, le)"},
 {"name":"gender","type":"token","documentation":"Administrative gender: male | female | other | unknown"},
 {"name":"address-postalcode","type":"string","documentation":"Postcode"},
 {"name":"name","type":"string","documentation":"Any part of the name"},
 {"name":"telecom","type":"token","documentation":"A phone number or email"}],
 "searchInclude":["Patient:general-practitioner"],"searchRevInclude":["Observation:patient"]},
{"type":"Observation","interaction":[{"code":"read"},{"code":"search-type"}],"searchParam":[
 {"name":"patient","type":"reference","documentation":"The patient"},
 {"name":"code","type":"token","documentation":"SNOMED CT or LOINC code"},
 {"name":"category","type":"token","documentation":"Category: vital-signs | social-history"},
 {"name":"date","type":"date","documentation":"Effective date"},
 {"name":"status","type":"token","documentation":"registered | preliminary | final | amended"}],
 "searchInclude":["Observation:patient"]},
{"type":"Organization","interaction":[{"code":"read"},{"code":"search-type"}],"searchParam":[
 {"name":"name","type":"string","documentation":"Name"}]},
{"type":"DocumentReference","interaction":[{"code":"read"},{"code":"search-type"}],"searchParam":[
 {"name":"patient","type":"reference","documentation":"The patient"}]},
{"type":"Binary","interaction":[{"code":"read"}]}
]}]}`

// browserPatient returns a Care Connect Patient.
func browserPatient(id, nhs, family, given, gender, birth, postcode string) string {
	return fmt.Sprintf(`{"resourceType":"Patient","id":%q,"meta":{"profile":["https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1"]},`+
		`"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":%q}],`+
		`"name":[{"use":"official","family":%q,"given":[%q]}],"gender":%q,"birthDate":%q,`+
		`"address":[{"use":"home","postalCode":%q}],"generalPractitioner":[{"reference":"Organization/B82001","display":"Leeds Practice"}]}`,
		id, nhs, family, given, gender, birth, postcode)
}

// browserSearchset returns a searchset Bundle of resources (each with its
// search mode), a total (<0 for none) and links.
func browserSearchset(total int, links map[string]string, entries ...string) string {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"searchset"`)
	if total >= 0 {
		fmt.Fprintf(&b, `,"total":%d`, total)
	}
	if len(links) > 0 {
		b.WriteString(`,"link":[`)
		first := true
		for _, rel := range []string{"self", "first", "previous", "next", "last"} {
			if u, ok := links[rel]; ok {
				if !first {
					b.WriteString(",")
				}
				first = false
				fmt.Fprintf(&b, `{"relation":%q,"url":%q}`, rel, u)
			}
		}
		b.WriteString("]")
	}
	b.WriteString(`,"entry":[`)
	for i, e := range entries {
		if i > 0 {
			b.WriteString(",")
		}
		mode := "match"
		if strings.Contains(e, `"resourceType":"OperationOutcome"`) {
			mode = "outcome"
		} else if strings.Contains(e, `"resourceType":"Organization"`) {
			mode = "include"
		}
		full := browserStubBase + "/" + browserRef(e)
		if browserField(e, "id") == "" {
			full = fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i+1)
		}
		fmt.Fprintf(&b, `{"fullUrl":%q,"resource":%s,"search":{"mode":%q}}`, full, e, mode)
	}
	b.WriteString("]}")
	return b.String()
}

// browserRef returns a resource's Type/id, from its JSON.
func browserRef(resource string) string {
	typ, id := browserField(resource, "resourceType"), browserField(resource, "id")
	return typ + "/" + id
}

// browserField returns the first string field name in a JSON text (of
// the compact kind these tests write).
func browserField(resource, name string) string {
	key := `"` + name + `":"`
	i := strings.Index(resource, key)
	if i < 0 {
		return ""
	}
	rest := resource[i+len(key):]
	return rest[:strings.IndexByte(rest, '"')]
}

// browserOutcome returns an OperationOutcome with one issue.
func browserOutcome(severity, code, diagnostics string) string {
	return fmt.Sprintf(`{"resourceType":"OperationOutcome","id":"oo","issue":[{"severity":%q,"code":%q,"diagnostics":%q}]}`, severity, code, diagnostics)
}

// browserPatients are the stub's patients; the third has a birth date
// that is not a date, so strict parsing flags it.
var browserPatients = []string{
	browserPatient("1", "9990000018", "Smith", "Anna", "female", "1980-02-14", "LS1 4AP"),
	browserPatient("2", "9990000026", "Jones", "Bob", "male", "1975-11-30", "LS6 2QT"),
	browserPatient("3", "9990000034", "Khan", "Sara", "female", "1992-13-40", "BD7 1DP"),
}

// browserPatientStub serves the patients on one page, and the Leeds
// practice as an Organization.
func browserPatientStub() *browserStub {
	s := newBrowserStub()
	s.json("/STU3/Patient", http.StatusOK, browserSearchset(3, map[string]string{"self": browserStubBase + "/Patient?_count=50"}, browserPatients...))
	s.json("/STU3/Organization/B82001", http.StatusOK,
		`{"resourceType":"Organization","id":"B82001","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"B82001"}],"name":"Leeds Practice"}`)
	return s
}

// TestBrowserSearchAndRowsFromCapabilities runs a type's default search on
// the stub and checks the query, the rows, the markers and the answer.
func TestBrowserSearchAndRowsFromCapabilities(t *testing.T) {
	h := newBrowserHarness(t, nil)
	c, caps := browserPatientStub().client(t)
	h.b.setSource(c, caps)
	h.b.openType("Patient")
	h.waitShown()

	if got, want := h.b.queryURL.Text, browserStubBase+"/Patient?_count=50"; got != want {
		t.Errorf("query URL = %q, want %q", got, want)
	}
	if a := h.answer(); a.resourceType != "Patient" || a.status != http.StatusOK || a.err != nil {
		t.Errorf("answer = %+v", a)
	}
	rows, cols := h.b.table.Length()
	if rows != 3 || cols != len(fhirclient.ColumnsFor("Patient"))+1 {
		t.Fatalf("table is %d×%d", rows, cols)
	}
	if got := h.b.data.Rows[0][1]; got != "SMITH, Anna" && !strings.Contains(strings.ToUpper(got), "SMITH") {
		t.Errorf("first name cell = %q", got)
	}
	if got := h.b.total.Text; got != "Patient: 1–3 of 3 (page 1)" {
		t.Errorf("total = %q", got)
	}
	for i, want := range []bool{false, false, true} {
		if got := len(h.b.data.Warnings(i)) > 0; got != want {
			t.Errorf("row %d has warnings: %v, want %v (%v)", i, got, want, h.b.data.Warnings(i))
		}
	}
	if got := h.b.warnCount.Text; got != "1 row with conformance warnings" {
		t.Errorf("warning count = %q", got)
	}
	if h.b.next.Disabled() == false || h.b.prev.Disabled() == false || h.b.fetchAll.Disabled() == false {
		t.Error("paging is possible on a single page")
	}
}

// TestBrowserSearchFormStates renders the search form: as opened, and
// filled in.
func TestBrowserSearchFormStates(t *testing.T) {
	h := newBrowserHarness(t, nil)
	c, caps := browserPatientStub().client(t)
	h.b.setSource(c, caps)
	h.b.openType("Patient")
	h.waitShown()
	browserGolden(t, h, "search_patient.xml")

	f := h.b.form
	var keys []string
	for _, fd := range f.common {
		keys = append(keys, fd.key)
	}
	if got, want := strings.Join(keys, " "), "nhs-number family given birthdate gender address-postalcode"; got != want {
		t.Errorf("common fields = %q, want %q", got, want)
	}
	h.typeInto(f.field("family").entry, "Smi")
	f.field("gender").choice.SetText("female")
	f.field("birthdate").prefix.SetSelected("from")
	h.typeInto(f.field("birthdate").entry, "1980-01-01")
	h.typeInto(f.field(searchNHSNumber).entry, "999 000 0018")
	f.include.tick("Patient:general-practitioner")
	h.w.Canvas().Unfocus()
	want := browserStubBase + "/Patient?_count=50&_include=Patient:general-practitioner&birthdate=ge1980-01-01&family=Smi&gender=female&identifier=https://fhir.nhs.uk/Id/nhs-number%7C9990000018"
	if got := h.b.queryURL.Text; got != want {
		t.Errorf("query URL =\n%s, want\n%s", got, want)
	}
	browserGolden(t, h, "search_filled.xml")

	// A date that is not one stops the search and says why.
	h.typeInto(f.field("birthdate").entry, "x")
	test.Tap(h.b.search)
	if got := h.b.status.Text; !strings.Contains(got, "Birth date: write the date as YYYY") {
		t.Errorf("status = %q", got)
	}
}

// TestBrowserExplain renders a type the token cannot read.
func TestBrowserExplain(t *testing.T) {
	h := newBrowserHarness(t, nil)
	c, caps := browserPatientStub().client(t)
	h.b.setSource(c, caps)
	h.b.explain("Observation", "Your token cannot read Observation: it needs the scope user/Observation.read, and was granted user/Patient.read.")
	if !h.b.search.Disabled() || !h.b.queryURL.Disabled() {
		t.Error("the query can still run")
	}
	browserGolden(t, h, "explain.xml")
}

// TestBrowserOperationOutcome shows the server's OperationOutcomes: inline
// beside results, and as the reason for a refusal.
func TestBrowserOperationOutcome(t *testing.T) {
	obs := func(id, text string) string {
		return fmt.Sprintf(`{"resourceType":"Observation","id":%q,"status":"final","subject":{"reference":"Patient/1"},`+
			`"code":{"coding":[{"system":"http://snomed.info/sct","code":"86290005","display":%q}]},"effectiveDateTime":"2019-05-01",`+
			`"valueQuantity":{"value":16,"unit":"/min"}}`, id, text)
	}
	tests := []struct {
		name, golden string
		status       int
		body         string
		wantStatus   string
		wantServer   string
		wantOutcome  string
	}{
		{name: "inline", golden: "outcome_inline.xml", status: http.StatusOK,
			body: browserSearchset(2, nil, browserOutcome("warning", "not-supported", "The parameter _sort is not supported and was ignored"),
				obs("o1", "Respiratory rate"), obs("o2", "Heart rate")),
			wantOutcome: "The server says (warning): The parameter _sort is not supported and was ignored"},
		{name: "refused", golden: "outcome_forbidden.xml", status: http.StatusForbidden,
			body:       browserOutcome("error", "security", "Access denied: the token's scopes do not include user/Observation.read"),
			wantStatus: "Searching Observation failed: the token does not allow this (the server refused with 403 Forbidden).",
			wantServer: "The server said: Access denied: the token's scopes do not include user/Observation.read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newBrowserHarness(t, nil)
			s := newBrowserStub()
			s.json("/STU3/Observation", tt.status, tt.body)
			c, caps := s.client(t)
			h.b.setSource(c, caps)
			h.b.openType("Observation")
			h.waitShown()
			a := h.answer()
			if a.resourceType != "Observation" || a.status != tt.status {
				t.Errorf("answer = %+v, want status %d", a, tt.status)
			}
			if tt.status == http.StatusForbidden && !errors.Is(a.err, fhirclient.ErrForbidden) {
				t.Errorf("answer error = %v, want ErrForbidden", a.err)
			}
			if got := h.b.status.Text; got != tt.wantStatus {
				t.Errorf("status = %q, want %q", got, tt.wantStatus)
			}
			if got := h.b.serverText.Text; tt.wantServer != "" && got != tt.wantServer {
				t.Errorf("server text = %q, want %q", got, tt.wantServer)
			}
			if got := h.b.outcome.Text; got != tt.wantOutcome || h.b.outcome.Visible() != (tt.wantOutcome != "") {
				t.Errorf("outcome = %q (visible %v), want %q", got, h.b.outcome.Visible(), tt.wantOutcome)
			}
			browserGolden(t, h, tt.golden)
		})
	}
}

// TestBrowserOpenFile opens files offline: the CCRI's Patient, XML (which
// fails in words) and JSON that is not FHIR.
func TestBrowserOpenFile(t *testing.T) {
	dir := t.TempDir()
	notFHIR := filepath.Join(dir, "notes.json")
	if err := os.WriteFile(notFHIR, []byte(`{"hello":"world"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path       string
		wantRows   int
		wantTotal  string
		wantStatus string
	}{
		{path: filepath.Join(ccriFixtures, "Patient.json"), wantRows: 1, wantTotal: "Patient: 1 in Patient.json"},
		{path: filepath.Join(ccriFixtures, "MedicationStatement.xml"),
			wantStatus: "Opening MedicationStatement.xml failed: open MedicationStatement.xml: XML is not supported yet; save the resource as JSON."},
		{path: notFHIR, wantStatus: "Opening notes.json failed: open notes.json: the answer is not FHIR JSON: the JSON has no resourceType."},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			if _, err := os.Stat(tt.path); err != nil {
				t.Skipf("fixture missing: %v", err)
			}
			h := newBrowserHarness(t, nil)
			h.b.openFile(tt.path)
			h.waitShown()
			if rows, _ := h.b.table.Length(); rows != tt.wantRows {
				t.Errorf("rows = %d, want %d", rows, tt.wantRows)
			}
			if got := h.b.total.Text; got != tt.wantTotal {
				t.Errorf("total = %q, want %q", got, tt.wantTotal)
			}
			if got := h.b.status.Text; got != tt.wantStatus {
				t.Errorf("status = %q, want %q", got, tt.wantStatus)
			}
			if tt.wantRows > 0 && (h.b.fetchAll.Disabled() == false || h.b.next.Disabled() == false) {
				t.Error("a file offers paging")
			}
		})
	}
}

// TestBrowserStaleResultsDropped starts a slow search, then a quick one:
// the slow one's answer, arriving last, must not replace the quick one's.
func TestBrowserStaleResultsDropped(t *testing.T) {
	h := newBrowserHarness(t, nil)
	s := browserPatientStub()
	release := make(chan struct{})
	arrived := make(chan struct{})
	s.handle("/STU3/Observation", func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release // the server ignores the cancellation and answers late
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(browserSearchset(1, nil, `{"resourceType":"Observation","id":"late","status":"final"}`)))
	})
	c, caps := s.client(t)
	h.b.setSource(c, caps)
	h.b.openType("Observation")
	browserWait(h, arrived, "the slow search reaching the server")
	h.b.openType("Patient")
	h.waitShown()
	close(release)
	browserWait(h, h.stale, "the slow search's answer being dropped")
	if got := h.b.data.ResourceType; got != "Patient" {
		t.Errorf("the table shows %s rows, want Patient", got)
	}
	if rows, _ := h.b.table.Length(); rows != 3 {
		t.Errorf("rows = %d, want 3", rows)
	}
}

// browserSandbox starts the sandbox and returns a client logged in as
// clientID, with the capabilities read.
func browserSandbox(t *testing.T, clientID string) (*fhirclient.Client, *fhirclient.Capabilities) {
	t.Helper()
	srv, err := sandbox.Start(sandbox.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	info := srv.Info()
	secret := ""
	for _, c := range info.Clients {
		if c.ClientID == clientID {
			secret = c.ClientSecret
		}
	}
	ctx := context.Background()
	sess, err := auth.ClientCredentials{TokenURL: info.TokenEndpoint, ClientID: clientID, ClientSecret: secret,
		Auth: auth.ClientAuthBasic}.Login(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := fhirclient.New(info.FHIRBase, sess.HTTPClient(nil))
	caps, err := c.Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return c, caps
}

// TestBrowserSandboxSearchPageDetails drives the pane against the sandbox
// as a user would: search, next and previous page, a row's details, the
// patient's observations, an observation's subject, and back.
func TestBrowserSandboxSearchPageDetails(t *testing.T) {
	c, caps := browserSandbox(t, sandbox.ClientMedicationAccess)
	h := newBrowserHarness(t, nil)
	h.b.setSource(c, caps)
	h.b.openType("Patient")
	h.waitShown()
	h.answer()

	h.b.form.count.SetText("20")
	test.Tap(h.b.search)
	h.waitShown()
	h.answer()
	if rows, _ := h.b.table.Length(); rows != 20 {
		t.Fatalf("rows = %d, want 20", rows)
	}
	if h.b.next.Disabled() {
		t.Fatal("next is disabled on the first of several pages")
	}
	test.Tap(h.b.next)
	h.waitShown()
	h.answer()
	if got := h.b.total.Text; !strings.HasPrefix(got, "Patient: 21–40 of ") || !strings.HasSuffix(got, "(page 2)") {
		t.Errorf("total on page 2 = %q", got)
	}
	test.Tap(h.b.prev)
	h.waitShown()
	h.answer()
	if got := h.b.total.Text; !strings.HasPrefix(got, "Patient: 1–20 of ") {
		t.Errorf("total back on page 1 = %q", got)
	}

	h.b.table.Select(widget.TableCellID{Row: 0, Col: 1})
	h.waitDetails()
	p := h.b.details
	patient := p.view.entry.Reference()
	if !strings.HasPrefix(patient, "Patient/") || p.title.Text != patient {
		t.Fatalf("details title = %q (entry %q)", p.title.Text, patient)
	}
	obs := p.quick["Observation"]
	if obs == nil {
		t.Fatalf("no quick search for the patient's observations (have %v)", p.quick)
	}
	test.Tap(obs)
	h.waitShown()
	if a := h.answer(); a.resourceType != "Observation" || a.status != http.StatusOK {
		t.Fatalf("answer = %+v", a)
	}
	if !strings.Contains(h.b.queryURL.Text, "patient="+patient) {
		t.Errorf("query URL %q does not search for %s", h.b.queryURL.Text, patient)
	}
	if rows, _ := h.b.table.Length(); rows == 0 {
		t.Fatal("the patient has no observations")
	}

	h.b.table.Select(widget.TableCellID{Row: 0, Col: 2})
	h.waitDetails()
	var subject *widget.Button
	for _, btn := range p.refButtons {
		if strings.HasPrefix(btn.Text, "subject → "+patient) {
			subject = btn
		}
	}
	if subject == nil {
		t.Fatalf("no subject link among %d references", len(p.refButtons))
	}
	observation := p.view.entry.Reference()
	test.Tap(subject)
	h.waitDetails()
	if a := h.answer(); a.resourceType != "Patient" || a.status != http.StatusOK {
		t.Errorf("answer to the read = %+v", a)
	}
	if got := p.view.entry.Reference(); got != patient {
		t.Errorf("following subject shows %s, want %s", got, patient)
	}
	test.Tap(p.back)
	h.waitDetails()
	if got := p.view.entry.Reference(); got != observation {
		t.Errorf("back shows %s, want %s", got, observation)
	}
}

// TestBrowserSandboxForbidden searches a type the token may not read: the
// sandbox refuses with 403 and the window is told.
func TestBrowserSandboxForbidden(t *testing.T) {
	c, caps := browserSandbox(t, sandbox.ClientPatientAccess)
	h := newBrowserHarness(t, nil)
	h.b.setSource(c, caps)
	h.b.openType("Observation")
	h.waitShown()
	a := h.answer()
	if a.resourceType != "Observation" || a.status != http.StatusForbidden || !errors.Is(a.err, fhirclient.ErrForbidden) {
		t.Fatalf("answer = %+v", a)
	}
	if got := h.b.status.Text; !strings.Contains(got, "the token does not allow this") {
		t.Errorf("status = %q", got)
	}
	if !h.b.serverText.Visible() || h.b.serverText.Text == "" {
		t.Error("the server's OperationOutcome text is not shown")
	}
}

// TestBrowserSandboxFetchAll fetches every page of the sandbox's patients.
func TestBrowserSandboxFetchAll(t *testing.T) {
	c, caps := browserSandbox(t, sandbox.ClientMedicationAccess)
	h := newBrowserHarness(t, nil)
	h.b.setSource(c, caps)
	h.b.openTypeLockedForTest("Patient", map[string][]string{"_count": {"20"}})
	h.waitShown()
	test.Tap(h.b.fetchAll)
	h.waitShown()
	rows, _ := h.b.table.Length()
	if rows != 50 {
		t.Errorf("rows = %d, want the sandbox's 50 patients", rows)
	}
	if got := h.b.total.Text; got != "Patient: all 50 of 50 fetched" {
		t.Errorf("total = %q", got)
	}
	if got := h.b.status.Text; got != "Fetched every page: 3 pages." {
		t.Errorf("status = %q", got)
	}
	if !h.b.next.Disabled() || !h.b.fetchAll.Disabled() {
		t.Error("paging is still offered after fetching every page")
	}
}

// openTypeLockedForTest opens a type with a search of the test's choosing.
func (b *browser) openTypeLockedForTest(rt string, params map[string][]string) {
	b.locked(func() { b.openTypeLocked(rt, params) })
}

// TestBrowserCopyAsCurl copies the query as a curl command, with the
// token only when asked.
func TestBrowserCopyAsCurl(t *testing.T) {
	const token = "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"
	h := newBrowserHarness(t, func() string { return token })
	c, caps := browserPatientStub().client(t)
	h.b.setSource(c, caps)
	h.b.openType("Patient")
	h.waitShown()
	clip := fyne.CurrentApp().Clipboard()
	tests := []struct {
		withToken bool
		want      string
	}{
		{false, `curl -sS -H 'Accept: application/fhir+json' -H "Authorization: Bearer $TOKEN" '` + browserStubBase + `/Patient?_count=50'`},
		{true, `curl -sS -H 'Accept: application/fhir+json' -H 'Authorization: Bearer ` + token + `' '` + browserStubBase + `/Patient?_count=50'`},
	}
	for _, tt := range tests {
		h.b.curlToken.SetChecked(tt.withToken)
		test.Tap(h.b.copyCurl)
		if got := clip.Content(); got != tt.want {
			t.Errorf("with token %v: clipboard =\n%s\nwant\n%s", tt.withToken, got, tt.want)
		}
	}
	close(h.logs)
	for line := range h.logs {
		if strings.Contains(line, token) {
			t.Errorf("the token reached the log: %q", line)
		}
	}
}

// TestBrowserErrorText says what failed in plain words.
func TestBrowserErrorText(t *testing.T) {
	tests := []struct {
		err        error
		msg, serve string
	}{
		{&fhirclient.HTTPError{Status: 403, Message: "the token does not allow this", Issues: []string{"no scope"}},
			"Search failed: the token does not allow this (the server refused with 403 Forbidden).", "no scope"},
		{&fhirclient.HTTPError{Status: 401, Message: "the server did not accept the token"},
			"Search failed: the server did not accept the token (401 Unauthorized); renew the token or log in again.", ""},
		{&fhirclient.HTTPError{Status: 500, Message: "the server failed (internal server error)", Body: "oops"},
			"Search failed: the server failed (internal server error) (HTTP 500 Internal Server Error).", `"oops"`},
		{fmt.Errorf("search: %w", auth.ErrExpired), "Search failed: the access token has expired; renew it or log in again.", ""},
		{context.Canceled, "Search failed: cancelled.", ""},
		{fmt.Errorf("fetch page: %w", fhirclient.ErrCrossOrigin), "Search failed: fetch page: refused to send the token to another server.", ""},
	}
	for _, tt := range tests {
		msg, server := browserErrorText("Search failed", tt.err)
		if msg != tt.msg || server != tt.serve {
			t.Errorf("browserErrorText(%v) = %q, %q; want %q, %q", tt.err, msg, server, tt.msg, tt.serve)
		}
	}
}

// TestBrowserRelayoutAfterFormChange checks the pane's targeted relayout
// (no whole-pane Refresh) as it is, without browserSettle: when the form
// area changes height, the query row moves below it and the results fill
// what is left, in a window that was already laid out.
func TestBrowserRelayoutAfterFormChange(t *testing.T) {
	h := newBrowserHarness(t, nil)
	c, caps := browserPatientStub().client(t)
	h.b.setSource(c, caps)
	queryRow := h.b.top.Objects[2]
	var split fyne.CanvasObject // the results and details, under the top rows
	for _, o := range h.b.content.(*fyne.Container).Objects {
		if o != h.b.top {
			split = o
		}
	}
	check := func(when string) {
		t.Helper()
		form := h.b.formBox
		if got, want := form.Size().Height, form.MinSize().Height; got != want {
			t.Errorf("%s: form area is %v high, its content needs %v", when, got, want)
		}
		if bottom := form.Position().Y + form.Size().Height; queryRow.Position().Y < bottom {
			t.Errorf("%s: query row at y=%v overlaps the form area, which ends at y=%v", when, queryRow.Position().Y, bottom)
		}
		if got, want := split.Position().Y, h.b.top.MinSize().Height; got < want {
			t.Errorf("%s: results start at y=%v, above the end of the form and query rows (%v)", when, got, want)
		}
		if got, want := split.Position().Y+split.Size().Height, h.b.content.Size().Height; got != want {
			t.Errorf("%s: results end at y=%v, the pane at %v", when, got, want)
		}
	}
	check("empty")
	short := h.b.formBox.Size().Height

	h.b.openType("Patient") // the search form: taller than the hint
	h.waitShown()
	check("Patient form")
	if tall := h.b.formBox.Size().Height; tall <= short {
		t.Fatalf("the Patient form (%v high) is not taller than the hint (%v): the test shows nothing", tall, short)
	}

	h.b.explain("Observation", "Your token cannot read Observation.") // short again
	check("explained")
}
