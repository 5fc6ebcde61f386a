package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injectable clock that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// stubAS is a small authorization server for tests: authorization code with
// PKCE (redirecting straight back, no login page), client credentials,
// password, refresh and revocation. Tokens are opaque ("tok-N").
type stubAS struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	clientID   string
	secret     string // "" for a public client
	expiresIn  int
	scope      string // the scope member of token responses; "" leaves it out
	issueRT    bool   // issue refresh tokens
	deny       bool   // the authorize endpoint answers access_denied
	iss        string // iss to put on authorization responses
	failTokens int    // fail this many token requests with invalid_grant
	codes      map[string]stubCode
	refresh    map[string]bool
	revoked    []string // hints of revoked tokens
	requests   []url.Values
	basicAuth  []bool
	issued     int
	mint       func(n int) string // optional: the access token for the n-th issue
}

type stubCode struct{ challenge, redirect string }

func newStubAS(t *testing.T) *stubAS {
	a := &stubAS{t: t, clientID: "app", secret: "app-secret", expiresIn: 3600,
		codes: map[string]stubCode{}, refresh: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", a.authorize)
	mux.HandleFunc("/token", a.token)
	mux.HandleFunc("/revoke", a.revoke)
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

func (a *stubAS) url(p string) string { return a.srv.URL + p }

func (a *stubAS) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Hostname() != "127.0.0.1" || redirect.Path != "/callback" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("response_type") != "code" || q.Get("client_id") != a.clientID ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" {
		http.Error(w, "bad authorization request: "+q.Encode(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	back := url.Values{"state": {q.Get("state")}}
	if a.iss != "" {
		back.Set("iss", a.iss)
	}
	if a.deny {
		back.Set("error", "access_denied")
		back.Set("error_description", "The user said no")
	} else {
		code := fmt.Sprintf("code-%d", len(a.codes)+1)
		a.codes[code] = stubCode{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
		back.Set("code", code)
	}
	a.mu.Unlock()
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (a *stubAS) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	form := r.PostForm
	a.requests = append(a.requests, form)
	id, secret, basic := r.BasicAuth()
	a.basicAuth = append(a.basicAuth, basic)
	if !basic {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id != a.clientID || secret != a.secret {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "Bad client credentials")
		return
	}
	if a.failTokens > 0 {
		a.failTokens--
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Refresh token revoked")
		return
	}
	switch form.Get("grant_type") {
	case "authorization_code":
		c, ok := a.codes[form.Get("code")]
		delete(a.codes, form.Get("code"))
		sum := sha256.Sum256([]byte(form.Get("code_verifier")))
		if !ok || c.redirect != form.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "PKCE or code mismatch")
			return
		}
	case "refresh_token":
		if !a.refresh[form.Get("refresh_token")] {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Unknown refresh token")
			return
		}
	case "client_credentials":
	case "password":
		if form.Get("username") != "alice" || form.Get("password") != "wonderland" {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Bad user credentials")
			return
		}
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	a.issued++
	resp := map[string]any{"access_token": fmt.Sprintf("tok-%d", a.issued), "token_type": "bearer", "expires_in": a.expiresIn}
	if a.mint != nil {
		resp["access_token"] = a.mint(a.issued)
	}
	if a.scope != "" {
		resp["scope"] = a.scope
	}
	if a.issueRT {
		rt := fmt.Sprintf("rt-%d", a.issued)
		a.refresh[rt] = true
		resp["refresh_token"] = rt
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(resp)
}

func (a *stubAS) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if id, secret, ok := r.BasicAuth(); !ok || id != a.clientID || secret != a.secret {
		if r.PostForm.Get("client_id") != a.clientID {
			tokenError(w, http.StatusUnauthorized, "invalid_client", "")
			return
		}
	}
	if r.PostForm.Get("token") == "" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "no token")
		return
	}
	delete(a.refresh, r.PostForm.Get("token"))
	a.revoked = append(a.revoked, r.PostForm.Get("token_type_hint")+":"+r.PostForm.Get("token"))
	w.WriteHeader(http.StatusOK)
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (a *stubAS) lastRequest() url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.requests) == 0 {
		return nil
	}
	return a.requests[len(a.requests)-1]
}

func (a *stubAS) tokenRequests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.requests)
}

func (a *stubAS) set(f func(a *stubAS)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a)
}

// browser plays the system browser on a goroutine: it follows the
// authorization URL (and so the redirect to the loopback listener) and
// reports the final page's status and body.
type browser struct {
	done  chan browserVisit
	extra func(redirect string) // optional: visits made before the real one
}

type browserVisit struct {
	status int
	body   string
	err    error
}

func newBrowser() *browser { return &browser{done: make(chan browserVisit, 1)} }

func (b *browser) open(_ context.Context, authURL string) error {
	go func() {
		if b.extra != nil {
			u, _ := url.Parse(authURL)
			b.extra(u.Query().Get("redirect_uri"))
		}
		resp, err := http.Get(authURL)
		if err != nil {
			b.done <- browserVisit{err: err}
			return
		}
		defer resp.Body.Close()
		body, _ := readBounded(resp.Body)
		b.done <- browserVisit{status: resp.StatusCode, body: string(body)}
	}()
	return nil
}

func (b *browser) wait(t *testing.T) browserVisit {
	t.Helper()
	select {
	case v := <-b.done:
		return v
	case <-time.After(30 * time.Second): // a guard against hanging, not a timed assertion
		t.Fatal("the browser goroutine never finished")
		return browserVisit{}
	}
}

func contains(haystack, needle string) bool { return strings.Contains(haystack, needle) }
