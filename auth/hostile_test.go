package auth

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hostile and broken servers on the OAuth side: every request the package
// makes ends, in a bounded time and with bounded memory, in a clear error.

// shortRequestTimeout shortens RequestTimeout for one (non-parallel) test.
func shortRequestTimeout(t *testing.T, d time.Duration) {
	t.Helper()
	old := requestTimeout
	requestTimeout = d
	t.Cleanup(func() { requestTimeout = old })
}

// hang never answers: it holds the request until the client goes away. (It
// reads the body first: net/http notices a client leaving only then.)
func hang(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	<-r.Context().Done()
}

// trickle answers 200 at once and then sends one byte of a JSON object every
// 20 ms, never finishing.
func trickle(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	_, _ = w.Write([]byte(`{"access_token":"`))
	fl.Flush()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if _, err := w.Write([]byte("a")); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// gzipOf is a gzip stream of prefix followed by n MiB of zero bytes: a small
// body that inflates to far more than any document limit. It is one gzip
// member per MiB (readers inflate concatenated members as one stream), so
// it is cheap to build.
func gzipOf(t testing.TB, prefix string, n int) []byte {
	t.Helper()
	member := func(b []byte) []byte {
		var out bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		return out.Bytes()
	}
	return append(member([]byte(prefix)), bytes.Repeat(member(make([]byte, 1<<20)), n)...)
}

// serveGzip answers with body as a gzip-encoded JSON document.
func serveGzip(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(body)
	}
}

// requestKinds are the token, revocation and key-set requests, each run
// against url.
var requestKinds = []struct {
	name string
	run  func(ctx context.Context, url string) error
}{
	{"client credentials", func(ctx context.Context, u string) error {
		_, err := ClientCredentials{TokenURL: u, ClientID: "app", ClientSecret: "s3cret-value"}.Login(ctx)
		return err
	}},
	{"password", func(ctx context.Context, u string) error {
		_, err := PasswordGrant{TokenURL: u, ClientID: "app", Username: "alice", Password: "wonderland-pw"}.Login(ctx)
		return err
	}},
	{"refresh", func(ctx context.Context, u string) error {
		tc := &tokenClient{tokenURL: u, clientID: "app", clientSecret: "s3cret-value"}
		_, err := tc.refresh(ctx, "refresh-token-value")
		return err
	}},
	{"revocation", func(ctx context.Context, u string) error {
		return Revocation{Endpoint: u, ClientID: "app"}.Revoke(ctx, "access-token-value", "")
	}},
	{"JWKS", func(ctx context.Context, u string) error {
		_, err := FetchJWKS(ctx, nil, u)
		return err
	}},
}

func TestRequestsToAStuckServerTimeOut(t *testing.T) {
	shortRequestTimeout(t, 300*time.Millisecond)
	for _, srvKind := range []struct {
		name string
		h    http.HandlerFunc
	}{{"never answers", hang}, {"trickles", trickle}} {
		srv := httptest.NewServer(srvKind.h)
		for _, rk := range requestKinds {
			t.Run(srvKind.name+"/"+rk.name, func(t *testing.T) {
				start := time.Now()
				err := rk.run(context.Background(), srv.URL)
				if !errors.Is(err, ErrServerTimedOut) {
					t.Fatalf("error %v, want ErrServerTimedOut", err)
				}
				if errors.Is(err, ErrTimedOut) || errors.Is(err, ErrCancelled) {
					t.Errorf("error %v claims the log-in timed out or was cancelled", err)
				}
				if !strings.Contains(err.Error(), "did not answer in time") {
					t.Errorf("message %q", err)
				}
				if d := time.Since(start); d > 10*time.Second {
					t.Errorf("took %v", d)
				}
			})
		}
		srv.Close()
	}
}

func TestRequestsToAStuckServerAreCancellable(t *testing.T) {
	for _, srvKind := range []struct {
		name string
		h    http.HandlerFunc
	}{{"never answers", hang}, {"trickles", trickle}} {
		srv := httptest.NewServer(srvKind.h)
		for _, rk := range requestKinds {
			t.Run(srvKind.name+"/"+rk.name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(100*time.Millisecond, cancel) // the user presses Cancel
				err := rk.run(ctx, srv.URL)
				if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
					t.Fatalf("error %v, want ErrCancelled", err)
				}
			})
		}
		srv.Close()
	}
}

// A renewal against a token endpoint that stopped answering must end, so
// that the session's renewal lock is released and later renewals can run.
func TestRenewalAgainstAStuckServerEnds(t *testing.T) {
	shortRequestTimeout(t, 200*time.Millisecond)
	var stuck sync.Map
	as := newStubAS(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := stuck.Load("token"); ok {
			trickle(w, r)
			return
		}
		as.token(w, r)
	})
	mux.HandleFunc("/jwks", hang)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	as.set(func(a *stubAS) { a.mint = func(int) string { return "e30.e30.c2ln" } }) // a JWT, so the JWKS is fetched

	sess, err := ClientCredentials{TokenURL: srv.URL + "/token", JWKSURI: srv.URL + "/jwks",
		ClientID: as.clientID, ClientSecret: as.secret}.Login(context.Background())
	if err != nil {
		t.Fatalf("Login with a stuck JWKS endpoint: %v", err)
	}
	if info := sess.Info(); info.JWT == nil || !strings.Contains(info.JWT.Label(), "did not answer in time") {
		t.Errorf("the JWT's verification does not say the JWKS timed out: %+v", info.JWT)
	}
	stuck.Store("token", true)
	for i := range 2 {
		if err := sess.Renew(context.Background()); !errors.Is(err, ErrServerTimedOut) {
			t.Fatalf("renewal %d: %v, want ErrServerTimedOut", i+1, err)
		}
	}
}

// Documents far larger than any real one, or bombs that inflate to that,
// are refused without reading them whole.
func TestOversizedAndBombDocuments(t *testing.T) {
	bomb := gzipOf(t, `{"keys":[],"x":"`, 64) // 64 MiB of zeros in about 64 KiB
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes compressed", len(bomb))
	}
	huge := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"`))
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for range 1024 { // 64 MiB, or until the client stops reading
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
	for _, h := range []struct {
		name string
		fn   http.HandlerFunc
	}{{"gzip bomb", serveGzip(bomb)}, {"huge body", huge}} {
		srv := httptest.NewServer(h.fn)
		for _, rk := range requestKinds {
			t.Run(h.name+"/"+rk.name, func(t *testing.T) {
				err := rk.run(context.Background(), srv.URL)
				if err == nil {
					t.Fatal("no error")
				}
				if len(err.Error()) > 600 {
					t.Errorf("the message is %d bytes long", len(err.Error()))
				}
			})
		}
		t.Run(h.name+"/discovery", func(t *testing.T) {
			d, err := Discoverer{HTTPClient: srv.Client(), StepTimeout: 10 * time.Second}.Discover(context.Background(), srv.URL+"/fhir")
			if !errors.Is(err, ErrNoEndpoints) {
				t.Fatalf("Discover: %v", err)
			}
			for _, s := range d.Steps {
				if !s.Skipped && !strings.Contains(s.Problem, "larger than") {
					t.Errorf("step %s", s)
				}
			}
		})
		srv.Close()
	}
}

func TestDiscoveryOfATricklingServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(trickle))
	defer srv.Close()
	d, err := Discoverer{HTTPClient: srv.Client(), StepTimeout: 200 * time.Millisecond}.Discover(context.Background(), srv.URL+"/fhir")
	if !errors.Is(err, ErrNoEndpoints) {
		t.Fatalf("Discover: %v", err)
	}
	for _, s := range d.Steps {
		if !s.Skipped && !strings.Contains(s.Problem, "no answer within") {
			t.Errorf("step %s", s)
		}
	}
}

// A token endpoint that echoes the request (headers and form) into its
// error answer: the client's credentials never reach the error message, in
// any encoding the request carried them.
func TestTokenErrorsNeverEchoCredentials(t *testing.T) {
	const secret, password, refresh = "s3cret+client/value", "hunter2-password", "refresh-token-value-42"
	echo := func(withCode bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			var all strings.Builder
			for k, vs := range r.Header {
				fmt.Fprintf(&all, "%s: %s\n", k, strings.Join(vs, ","))
			}
			all.WriteString(r.PostForm.Encode())
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			if withCode {
				fmt.Fprintf(w, `{"error":"invalid_client","error_description":%q}`, all.String())
			} else {
				fmt.Fprintf(w, `{"message":%q}`, all.String())
			}
		}
	}
	basic := base64.StdEncoding.EncodeToString([]byte("app:" + url.QueryEscape(secret)))
	forbidden := []string{secret, url.QueryEscape(secret), password, refresh, basic, basic[:16]}
	for _, withCode := range []bool{true, false} {
		srv := httptest.NewServer(echo(withCode))
		for _, auth := range []ClientAuth{ClientAuthBasic, ClientAuthBody} {
			var errs []error
			_, err := ClientCredentials{TokenURL: srv.URL, ClientID: "app", ClientSecret: secret, Auth: auth}.Login(context.Background())
			errs = append(errs, err)
			_, err = PasswordGrant{TokenURL: srv.URL, ClientID: "app", ClientSecret: secret, Auth: auth,
				Username: "alice", Password: password}.Login(context.Background())
			errs = append(errs, err)
			tc := &tokenClient{tokenURL: srv.URL, clientID: "app", clientSecret: secret, auth: auth}
			_, err = tc.refresh(context.Background(), refresh)
			errs = append(errs, err)
			errs = append(errs, Revocation{Endpoint: srv.URL, ClientID: "app", ClientSecret: secret, Auth: auth}.
				Revoke(context.Background(), refresh, "refresh_token"))
			for i, err := range errs {
				if err == nil {
					t.Fatalf("request %d: no error", i)
				}
				for _, f := range forbidden {
					if strings.Contains(err.Error(), f) {
						t.Errorf("code %v, %s, request %d: the error repeats %q: %v", withCode, auth, i, f, err)
					}
				}
			}
		}
		srv.Close()
	}
}

// The loopback listener is gone once the log-in has finished, as it is
// after a cancel or a timeout (TestAuthorizationCodeCancel, ...Timeout).
func TestLoopbackClosedAfterSuccess(t *testing.T) {
	as := newStubAS(t)
	b := newBrowser()
	ac := as.authCode(b)
	var redirect string
	open := ac.OpenBrowser
	ac.OpenBrowser = func(ctx context.Context, u string) error {
		p, _ := url.Parse(u)
		redirect = p.Query().Get("redirect_uri")
		if p.Query().Get("state") == "" || p.Query().Get("code_challenge") == "" || p.Query().Get("code_challenge_method") != "S256" {
			t.Errorf("authorization URL without state or PKCE: %s", u)
		}
		return open(ctx, u)
	}
	if _, err := ac.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.wait(t)
	assertClosed(t, redirect)
	u, _ := url.Parse(redirect)
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("redirect URI host %q, want 127.0.0.1", u.Hostname())
	}
}

// A CapabilityStatement as large as discovery reads, naming tens of
// thousands of security services and SMART capabilities, is read in
// linear time, and the step's note stays short. (Naming them took 9 s of
// CPU for one statement, quadratic in their number.)
func TestHugeCapabilityStatementIsReadQuickly(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"resourceType":"CapabilityStatement","rest":[{"security":{"extension":[`)
	for i := 0; b.Len() < MaxDocumentSize/2; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"url":%q,"valueCode":"c%d"}`, capabilitiesExtension, i)
	}
	b.WriteString(`],"service":[{"coding":[`)
	for i := 0; b.Len() < MaxDocumentSize-100; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"code":"s%d"}`, i)
	}
	b.WriteString(`]}]}}]}`)
	start := time.Now()
	doc, problem := fetched{status: http.StatusOK, contentType: "application/fhir+json", body: []byte(b.String())}.document()
	if problem != "" {
		t.Fatal(problem)
	}
	d := &Discovery{}
	step := DiscoveryStep{Name: "CapabilityStatement", URL: "https://fhir.example/metadata"}
	d.useCapabilityStatement(&step, doc)
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("reading the statement took %v", el)
	}
	if len(d.Capabilities) < 1000 {
		t.Errorf("%d capabilities read", len(d.Capabilities))
	}
	for _, f := range step.Found {
		if strings.HasPrefix(f, "security service") && (len(f) > 300 || !strings.Contains(f, "more")) {
			t.Errorf("the security services note is %d bytes: %.100s…", len(f), f)
		}
	}
}

// A token endpoint that answers 200 with an HTML page, plain text or JSON
// without a token: a plain message, not x/oauth2's.
func TestTokenEndpointAnswersSomethingElse(t *testing.T) {
	for _, c := range []struct {
		ctype, body string
		want        []string
	}{
		{"text/html", "<!DOCTYPE html><html><body>Sign in</body></html>", []string{"not a usable token response", "HTML page"}},
		{"text/plain", "OK", []string{"not a usable token response", "missing access_token"}},
		{"application/json", `{"token":"x"}`, []string{"not a usable token response", "missing access_token"}},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", c.ctype)
			fmt.Fprint(w, c.body)
		}))
		_, err := ClientCredentials{TokenURL: srv.URL, ClientID: "app", ClientSecret: "s3cret-value"}.Login(context.Background())
		srv.Close()
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v does not say %q", c.ctype, err, w)
			}
		}
		if err != nil && strings.Contains(err.Error(), "oauth2:") {
			t.Errorf("%s: error %q is x/oauth2's text", c.ctype, err)
		}
	}
}
