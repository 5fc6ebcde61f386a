package fhirclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

const (
	ctFHIR = "application/fhir+json; charset=utf-8"
	// testToken looks like a real JWT so that redaction has to catch it.
	testToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0LWNsaWVudCJ9.c2lnbmF0dXJlLWJ5dGVz"
)

func outcomeJSON(severity, code, diagnostics string) string {
	return fmt.Sprintf(`{"resourceType":"OperationOutcome","issue":[{"severity":%q,"code":%q,"diagnostics":%q}]}`, severity, code, diagnostics)
}

func emptyBundle() string {
	return `{"resourceType":"Bundle","type":"searchset","total":0}`
}

// noSleep records retry waits instead of sleeping.
type noSleep struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *noSleep) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *noSleep) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

// stub serves fn on 127.0.0.1 and returns a client for it.
func stub(t *testing.T, fn http.HandlerFunc, o Options) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(fn)
	t.Cleanup(srv.Close)
	if o.Sleep == nil {
		s := &noSleep{}
		o.Sleep = s.sleep
	}
	return NewWithOptions(srv.URL+"/fhir", srv.Client(), o), srv
}

func TestErrorMapping(t *testing.T) {
	html := `<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please log in</body></html>`
	tests := []struct {
		name        string
		status      int
		ct          string
		body        string
		header      map[string]string
		want        []error // errors.Is targets
		wantMsg     []string
		wantOutcome bool
	}{
		{name: "401", status: 401, ct: ctFHIR, body: outcomeJSON("error", "security", "token expired"),
			want: []error{ErrUnauthorized}, wantMsg: []string{"HTTP 401", "token expired"}, wantOutcome: true},
		{name: "403", status: 403, ct: ctFHIR, body: outcomeJSON("error", "forbidden", "needs user/Patient.read"),
			want: []error{ErrForbidden}, wantMsg: []string{"needs user/Patient.read"}, wantOutcome: true},
		{name: "404", status: 404, ct: ctFHIR, body: outcomeJSON("error", "not-found", "Unknown resource type"),
			want: []error{ErrNotFound}, wantMsg: []string{"Unknown resource type"}, wantOutcome: true},
		{name: "410", status: 410, ct: ctFHIR, body: outcomeJSON("error", "deleted", "gone"),
			want: []error{ErrGone}, wantMsg: []string{"deleted"}, wantOutcome: true},
		{name: "429 asking too long", status: 429, ct: "text/plain", body: "slow down", header: map[string]string{"Retry-After": "120"},
			want: []error{ErrRateLimited}, wantMsg: []string{"wait 2m0s", "slow down"}},
		{name: "500", status: 500, ct: ctFHIR, body: outcomeJSON("fatal", "exception", "NullPointerException at ca.uhn.fhir"),
			want: []error{ErrServer}, wantMsg: []string{"server failed", "NullPointerException"}, wantOutcome: true},
		{name: "502 HTML from a proxy", status: 502, ct: "text/html", body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
			want: []error{ErrServer}, wantMsg: []string{"HTML page", "502 Bad Gateway"}},
		{name: "HTML login page", status: 200, ct: "text/html; charset=utf-8", body: html,
			want: []error{ErrNotFHIR}, wantMsg: []string{"text/html", "HTML page", "<!DOCTYPE html>"}},
		{name: "truncated JSON", status: 200, ct: ctFHIR, body: `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Pat`,
			want: []error{ErrNotFHIR}, wantMsg: []string{"truncated", `{\"resourceType\":\"Bundle\"`}},
		{name: "plain text", status: 200, ct: "text/plain", body: "Service is up",
			want: []error{ErrNotFHIR}, wantMsg: []string{"text/plain", "plain text", "Service is up"}},
		{name: "XML", status: 200, ct: "application/fhir+xml", body: `<Bundle xmlns="http://hl7.org/fhir"/>`,
			want: []error{ErrXMLNotSupported}, wantMsg: []string{"XML"}},
		{name: "empty", status: 200, ct: ctFHIR, body: "",
			want: []error{ErrNotFHIR}, wantMsg: []string{"empty"}},
		{name: "JSON but no resource", status: 200, ct: "application/json", body: `{"status":"ok"}`,
			want: []error{ErrNotFHIR}, wantMsg: []string{"no resourceType"}},
		{name: "a resource but not a Bundle", status: 200, ct: ctFHIR, body: `{"resourceType":"Patient","id":"1"}`,
			want: []error{ErrNotFHIR}, wantMsg: []string{"Patient, not a Bundle"}},
		{name: "OperationOutcome instead of a Bundle", status: 200, ct: ctFHIR, body: outcomeJSON("error", "processing", "Invalid date"),
			want: []error{ErrOperationOutcome}, wantMsg: []string{"Invalid date"}, wantOutcome: true},
		{name: "body echoing a token", status: 400, ct: "text/plain", body: "bad header Authorization: Bearer " + testToken,
			wantMsg: []string{"bad request", "[redacted]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", tc.ct)
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}, Options{MaxRetryDelay: time.Minute})
			b, err := fc.Search(t.Context(), "Patient", nil)
			if err == nil {
				t.Fatalf("no error; got %+v", b)
			}
			var he *HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("error %v is not an *HTTPError", err)
			}
			if he.Status != tc.status {
				t.Errorf("status %d, want %d", he.Status, tc.status)
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q is not %q", err, w)
				}
			}
			for _, m := range tc.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not say %q", err, m)
				}
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("the error repeats the token: %v", err)
			}
			if tc.wantOutcome {
				if he.Outcome == nil || len(he.Outcome.Issues) != 1 {
					t.Fatalf("outcome %+v", he.Outcome)
				}
				is := he.Outcome.Issues[0]
				if is.Severity == "" || is.Code == "" || is.Diagnostics == "" {
					t.Errorf("issue %+v lacks severity, code or diagnostics", is)
				}
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		answers    []int // statuses before the final 200
		retryAfter string
		maxRetries int
		wantDelays []time.Duration
		wantErr    error
	}{
		{name: "429 seconds", answers: []int{429, 429}, retryAfter: "2", wantDelays: []time.Duration{2 * time.Second, 2 * time.Second}},
		{name: "503 no header backs off", answers: []int{503, 503}, wantDelays: []time.Duration{time.Second, 2 * time.Second}},
		{name: "503 HTTP date", answers: []int{503}, retryAfter: "Mon, 02 Jan 2006 15:04:10 GMT", wantDelays: []time.Duration{5 * time.Second}},
		{name: "gives up", answers: []int{429, 429, 429, 429}, retryAfter: "1", maxRetries: 2,
			wantDelays: []time.Duration{time.Second, time.Second}, wantErr: ErrRateLimited},
		{name: "no retries", answers: []int{503}, maxRetries: -1, wantErr: ErrServer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			sl := &noSleep{}
			var retries []Retry
			var mu sync.Mutex
			now := func() time.Time { return time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC) }
			fc, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1)) - 1
				if n < len(tc.answers) {
					if tc.retryAfter != "" {
						w.Header().Set("Retry-After", tc.retryAfter)
					}
					w.WriteHeader(tc.answers[n])
					return
				}
				w.Header().Set("Content-Type", ctFHIR)
				fmt.Fprint(w, emptyBundle())
			}, Options{Sleep: sl.sleep, MaxRetries: tc.maxRetries, Now: now, OnRetry: func(r Retry) {
				mu.Lock()
				retries = append(retries, r)
				mu.Unlock()
			}})
			_, err := fc.Search(t.Context(), "Patient", nil)
			if tc.wantErr == nil && err != nil {
				t.Fatalf("search: %v", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("search error %v, want %v", err, tc.wantErr)
			}
			if got := sl.got(); fmt.Sprint(got) != fmt.Sprint(tc.wantDelays) {
				t.Errorf("waited %v, want %v", got, tc.wantDelays)
			}
			if len(retries) != len(tc.wantDelays) {
				t.Errorf("OnRetry told of %d retries, want %d", len(retries), len(tc.wantDelays))
			}
			notes := 0
			for _, e := range fc.Log().Entries() {
				if strings.HasPrefix(e.Note, "retry ") {
					notes++
				}
			}
			if notes != len(tc.wantDelays) {
				t.Errorf("%d retry notes in the log, want %d", notes, len(tc.wantDelays))
			}
		})
	}
}

func TestRetryWaitIsCancellable(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	fc, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(429)
	}, Options{Sleep: func(ctx context.Context, d time.Duration) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}})
	_, err := fc.Search(ctx, "Patient", nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestDefaultSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("sleep on a cancelled context: %v", err)
	}
}

func TestAcceptFallback(t *testing.T) {
	tests := []struct {
		name   string
		refuse func(w http.ResponseWriter)
	}{
		{"406", func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotAcceptable) }},
		{"415", func(w http.ResponseWriter) { w.WriteHeader(http.StatusUnsupportedMediaType) }},
		{"XML instead", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/xml+fhir")
			fmt.Fprint(w, `<Bundle xmlns="http://hl7.org/fhir"/>`)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var accepts []string
			fc, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				accepts = append(accepts, r.Header.Get("Accept"))
				mu.Unlock()
				if r.Header.Get("Accept") != "application/json+fhir" {
					tc.refuse(w)
					return
				}
				w.Header().Set("Content-Type", "application/json+fhir")
				fmt.Fprint(w, emptyBundle())
			}, Options{})
			for i := 0; i < 2; i++ {
				if _, err := fc.Search(t.Context(), "Patient", nil); err != nil {
					t.Fatalf("search %d: %v", i, err)
				}
			}
			want := []string{"application/fhir+json", "application/json+fhir", "application/json+fhir"}
			if fmt.Sprint(accepts) != fmt.Sprint(want) {
				t.Errorf("Accept headers %q, want %q", accepts, want)
			}
		})
	}
}

func TestRequestHeaders(t *testing.T) {
	var got http.Header
	fc, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("Content-Type", ctFHIR)
		fmt.Fprint(w, emptyBundle())
	}, Options{UserAgent: "CareConnectExplorer/1.2.3"})
	if _, err := fc.Search(t.Context(), "Patient", nil); err != nil {
		t.Fatal(err)
	}
	if got.Get("Accept") != "application/fhir+json" || got.Get("User-Agent") != "CareConnectExplorer/1.2.3" {
		t.Errorf("headers %v", got)
	}
	fc2 := New("http://127.0.0.1:1/fhir", nil)
	if fc2.opt.UserAgent != UserAgent || !strings.HasPrefix(UserAgent, "CareConnectExplorer/") {
		t.Errorf("default User-Agent %q", fc2.opt.UserAgent)
	}
}

func TestTimeout(t *testing.T) {
	fc, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}, Options{Timeout: 50 * time.Millisecond})
	_, err := fc.Search(t.Context(), "Patient", nil)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error %v, want ErrTimeout", err)
	}
	// The caller's own cancellation is not a timeout.
	ctx, cancel := context.WithCancel(t.Context())
	fc2, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	}, Options{})
	_, err = fc2.Search(ctx, "Patient", nil)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestTooLarge(t *testing.T) {
	fc, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctFHIR)
		fmt.Fprint(w, `{"resourceType":"Bundle","entry":[`+strings.Repeat(`{"resource":{"resourceType":"Basic"}},`, 100)+`{}]}`)
	}, Options{MaxBodyBytes: 1000})
	_, err := fc.Search(t.Context(), "Patient", nil)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "_count") {
		t.Fatalf("error %v, want ErrTooLarge with advice", err)
	}
}

// authTransport adds a bearer token the way oauth2.Transport does, below
// the client, and records where it went.
type authTransport struct {
	mu   sync.Mutex
	sent []string // hosts the token was sent to
}

func (a *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+testToken)
	a.mu.Lock()
	a.sent = append(a.sent, r.URL.Host)
	a.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestCrossOrigin(t *testing.T) {
	var evilHits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
		w.Header().Set("Content-Type", ctFHIR)
		fmt.Fprint(w, emptyBundle())
	}))
	defer evil.Close()
	var srvURL string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fhir/Patient":
			w.Header().Set("Content-Type", ctFHIR)
			fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":%q},{"relation":"previous","url":%q}]}`,
				evil.URL+"/fhir?page=2", srvURL+"/fhir/moved")
		case "/fhir/Observation":
			http.Redirect(w, r, evil.URL+"/fhir/Observation", http.StatusFound)
		case "/fhir/moved":
			http.Redirect(w, r, "/fhir/Patient?page=1", http.StatusFound)
		case "/fhir/DocumentReference":
			w.Header().Set("Content-Type", ctFHIR)
			fmt.Fprint(w, emptyBundle())
		}
	}))
	defer srv.Close()
	srvURL = srv.URL
	at := &authTransport{}
	fc := New(srv.URL+"/fhir", &http.Client{Transport: at})

	b, err := fc.Search(t.Context(), "Patient", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fc.Next(t.Context(), b); !errors.Is(err, ErrCrossOrigin) {
		t.Errorf("following a next link to another origin: %v, want ErrCrossOrigin", err)
	}
	if _, err := fc.Search(t.Context(), "Observation", nil); !errors.Is(err, ErrCrossOrigin) {
		t.Errorf("a redirect to another origin: %v, want ErrCrossOrigin", err)
	}
	if _, err := fc.Previous(t.Context(), b); err != nil {
		t.Errorf("a redirect on the same origin: %v", err)
	}
	if _, err := fc.ReadReference(t.Context(), evil.URL+"/fhir/Patient/1"); !errors.Is(err, ErrCrossOrigin) {
		t.Errorf("reading a reference on another origin: %v, want ErrCrossOrigin", err)
	}
	if _, err := fc.AttachmentContent(t.Context(), Attachment{URL: evil.URL + "/Binary/1"}); !errors.Is(err, ErrCrossOrigin) {
		t.Errorf("an attachment on another origin: %v, want ErrCrossOrigin", err)
	}
	if n := evilHits.Load(); n != 0 {
		t.Errorf("the other origin got %d requests", n)
	}
	for _, h := range at.sent {
		if h != strings.TrimPrefix(srv.URL, "http://") {
			t.Errorf("the token went to %s", h)
		}
	}
	// Same host, other port or scheme: other origins too.
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"http://h/fhir", "http://h:80/x", true},
		{"https://h/fhir", "https://H:443/x", true},
		{"https://h/fhir", "http://h/fhir", false},
		{"http://h:8080/fhir", "http://h:8081/fhir", false},
	} {
		a, _ := url.Parse(tc.a)
		b, _ := url.Parse(tc.b)
		if sameOrigin(a, b) != tc.same {
			t.Errorf("sameOrigin(%s, %s) = %v", tc.a, tc.b, !tc.same)
		}
	}
}

func TestTokenSourceAndLogRedaction(t *testing.T) {
	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", ctFHIR)
		if r.URL.Query().Get("fail") != "" {
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"security","diagnostics":"bad token Bearer %s"}]}`, testToken)
			return
		}
		fmt.Fprint(w, emptyBundle())
	}))
	defer srv.Close()
	log := NewRequestLog(10)
	var seen []LogEntry
	var mu sync.Mutex
	unsub := log.Subscribe(func(e LogEntry) {
		mu.Lock()
		seen = append(seen, e)
		mu.Unlock()
	})
	defer unsub()
	fc := NewWithTokenSource(srv.URL+"/fhir", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken, TokenType: "Bearer"}),
		Options{Log: log, Version: STU3})
	if _, err := fc.Search(t.Context(), "Observation", url.Values{"code": {"http://loinc.org|8867-4"}, "access_token": {testToken}}); err != nil {
		t.Fatal(err)
	}
	if gotAuth != "Bearer "+testToken {
		t.Errorf("the server got Authorization %q", gotAuth)
	}
	_, err := fc.Search(t.Context(), "Patient", url.Values{"fail": {"1"}})
	if err == nil || strings.Contains(err.Error(), testToken) {
		t.Errorf("error %v", err)
	}
	entries := log.Entries()
	if len(entries) != 2 || len(seen) != 2 {
		t.Fatalf("%d entries, %d seen", len(entries), len(seen))
	}
	e := entries[0]
	if e.Method != "GET" || e.Status != 200 || e.Bytes == 0 || e.FHIRVersion != "STU3" || e.Duration < 0 {
		t.Errorf("entry %+v", e)
	}
	if !strings.Contains(e.URL, "code=http://loinc.org%7C8867-4") || !strings.Contains(e.URL, "access_token=[redacted]") {
		t.Errorf("logged URL %s", e.URL)
	}
	for _, e := range entries {
		if s := fmt.Sprintf("%+v %s", e, e); strings.Contains(s, testToken) {
			t.Errorf("the log holds the token: %s", s)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Authorization: Bearer abc.def-ghi", "Authorization: Bearer [redacted]"},
		{"token " + testToken + " end", "token [redacted] end"},
		{`{"access_token": "secret-value", "x": 1}`, `{"access_token": "[redacted]", "x": 1}`},
		{"client_secret=s3cr3t&grant_type=client_credentials", "client_secret=[redacted]&grant_type=client_credentials"},
		{"basic dXNlcjpwYXNz", "basic [redacted]"},
		{"Basic resource not supported", "Basic resource not supported"},
		{`WWW-Authenticate: Bearer realm="ccri-fhir", error="invalid_token"`, `WWW-Authenticate: Bearer realm="ccri-fhir", error="invalid_token"`},
		{"nothing to hide", "nothing to hide"},
		{"Authorization: Bearer x1", "Authorization: Bearer [redacted]"},
		{`"Authorization":"Basic short"`, `"Authorization":"Basic [redacted]"`},
	}
	for _, tc := range tests {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	urls := []struct{ in, want string }{
		{"https://h/fhir/Patient?access_token=abc&name=x", "https://h/fhir/Patient?access_token=[redacted]&name=x"},
		{"https://h/callback?code=abc123&state=xyz", "https://h/callback?code=[redacted]&state=xyz"},
		{"https://h/fhir/Observation?code=http://loinc.org%7C8867-4", "https://h/fhir/Observation?code=http://loinc.org%7C8867-4"},
		{"https://user:pass@h/fhir?client_secret=x", "https://h/fhir?client_secret=[redacted]"},
		{"https://h/token?refresh_token=r&CODE=c", "https://h/token?refresh_token=[redacted]&CODE=[redacted]"},
	}
	for _, tc := range urls {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	h := RedactHeader(http.Header{"Authorization": {"Bearer x"}, "Accept": {"application/fhir+json"}})
	if h.Get("Authorization") != "[redacted]" || h.Get("Accept") != "application/fhir+json" {
		t.Errorf("RedactHeader: %v", h)
	}
}

func TestRequestLogRing(t *testing.T) {
	l := NewRequestLog(3)
	for i := 0; i < 5; i++ {
		l.Add(LogEntry{URL: fmt.Sprintf("http://h/%d", i), Status: 200})
	}
	var got []string
	for _, e := range l.Entries() {
		got = append(got, e.URL)
	}
	if fmt.Sprint(got) != "[http://h/2 http://h/3 http://h/4]" || l.Len() != 3 {
		t.Errorf("ring holds %v", got)
	}
	l.Add(LogEntry{URL: "http://h/x?access_token=t", Header: http.Header{"Authorization": {"Bearer t"}}, Error: "sent Bearer abc123def456"})
	last := l.Entries()[2]
	if strings.Contains(last.URL, "=t") || last.Header.Get("Authorization") != "[redacted]" || strings.Contains(last.Error, "abc123") {
		t.Errorf("Add did not redact: %+v", last)
	}
}

func TestBadBase(t *testing.T) {
	for _, base := range []string{"", "ftp://h/fhir", "not a url", "://x"} {
		fc := New(base, nil)
		if _, err := fc.Search(t.Context(), "Patient", nil); err == nil {
			t.Errorf("base %q: no error", base)
		}
	}
	fc := New("http://127.0.0.1:1/fhir/", nil)
	if fc.Base() != "http://127.0.0.1:1/fhir" {
		t.Errorf("Base() = %q", fc.Base())
	}
	for _, typ := range []string{"", "patient", "Patient/1", "../x", "Pa tient"} {
		if _, err := fc.Search(t.Context(), typ, nil); err == nil || !strings.Contains(err.Error(), "not a resource type") {
			t.Errorf("Search(%q): %v", typ, err)
		}
	}
}
