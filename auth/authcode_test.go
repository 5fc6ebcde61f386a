package auth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func (a *stubAS) authCode(b *browser) AuthorizationCode {
	return AuthorizationCode{
		AuthURL: a.url("/authorize"), TokenURL: a.url("/token"),
		ClientID: a.clientID, ClientSecret: a.secret, Auth: ClientAuthBasic,
		Scopes: []string{"openid", "user/Patient.read"}, RevocationURL: a.url("/revoke"),
		OpenBrowser: b.open, Timeout: time.Minute,
	}
}

func TestAuthorizationCodePKCERoundTrip(t *testing.T) {
	as := newStubAS(t)
	as.set(func(a *stubAS) { a.scope = "openid user/Patient.read"; a.issueRT = true })
	b := newBrowser()
	sess, err := as.authCode(b).Login(context.Background())
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	visit := b.wait(t)
	if visit.err != nil || visit.status != http.StatusOK || !contains(visit.body, "return to Care Connect Explorer") {
		t.Errorf("browser saw %d %q (%v), want the return-to-the-app page", visit.status, visit.body, visit.err)
	}
	tok, err := sess.Token()
	if err != nil || tok.AccessToken != "tok-1" || tok.RefreshToken != "rt-1" {
		t.Fatalf("Token = %+v, %v", tok, err)
	}
	form := as.lastRequest()
	if form.Get("grant_type") != "authorization_code" || form.Get("code_verifier") == "" {
		t.Errorf("the exchange sent %v, want a code with its PKCE verifier", form)
	}
	if granted, src := sess.GrantedScopes(); src != ScopesFromResponse || len(granted) != 2 {
		t.Errorf("GrantedScopes = %v (%s)", granted, src)
	}
	if info := sess.Info(); !info.CanRenew || info.Renewal != "with the refresh token" {
		t.Errorf("Info renewal = %v %q, want renewal with the refresh token", info.CanRenew, info.Renewal)
	}
}

func TestAuthorizationCodePublicClientAndParams(t *testing.T) {
	as := newStubAS(t)
	as.set(func(a *stubAS) { a.secret = "" })
	b := newBrowser()
	ac := as.authCode(b)
	ac.ClientSecret = ""
	ac.Params = TokenParams("https://fhir.example/aud", "https://fhir.example/R4")
	var seen url.Values
	open := ac.OpenBrowser
	ac.OpenBrowser = func(ctx context.Context, u string) error {
		p, _ := url.Parse(u)
		seen = p.Query()
		return open(ctx, u)
	}
	if _, err := ac.Login(context.Background()); err != nil {
		t.Fatalf("Login: %v", err)
	}
	b.wait(t)
	if seen.Get("aud") != "https://fhir.example/aud" || seen.Get("resource") != "https://fhir.example/R4" {
		t.Errorf("authorization request %v lacks aud/resource", seen)
	}
	form := as.lastRequest()
	if form.Get("aud") != "https://fhir.example/aud" || form.Get("client_id") != "app" || form.Has("client_secret") {
		t.Errorf("code exchange form = %v, want aud and client_id and no secret", form)
	}
}

func TestAuthorizationCodeWrongStateAndOtherPathsIgnored(t *testing.T) {
	as := newStubAS(t)
	b := newBrowser()
	var forged []int
	b.extra = func(redirect string) {
		for _, u := range []string{
			redirect + "?state=forged&code=evil",
			redirect + "?code=evil",
			redirect[:len(redirect)-len(CallbackPath)] + "/favicon.ico",
		} {
			resp, err := http.Get(u)
			if err != nil {
				forged = append(forged, -1)
				continue
			}
			resp.Body.Close()
			forged = append(forged, resp.StatusCode)
		}
	}
	sess, err := as.authCode(b).Login(context.Background())
	if err != nil {
		t.Fatalf("Login after forged callbacks: %v", err)
	}
	b.wait(t)
	for i, st := range forged {
		if st != http.StatusBadRequest {
			t.Errorf("forged request %d answered %d, want 400 and keep waiting", i, st)
		}
	}
	if tok, _ := sess.Token(); tok == nil || tok.AccessToken != "tok-1" {
		t.Errorf("the session holds %v, want the genuine token", tok)
	}
}

func TestAuthorizationCodeDeniedConsent(t *testing.T) {
	as := newStubAS(t)
	as.set(func(a *stubAS) { a.deny = true })
	b := newBrowser()
	_, err := as.authCode(b).Login(context.Background())
	var ae *AuthorizationError
	if !errors.As(err, &ae) || ae.Code != "access_denied" || ae.Description != "The user said no" {
		t.Fatalf("Login error = %v, want access_denied with the server's description", err)
	}
	if v := b.wait(t); !contains(v.body, "access_denied") || !contains(v.body, "The user said no") {
		t.Errorf("the browser page %q does not show the server's error", v.body)
	}
	if as.tokenRequests() != 0 {
		t.Errorf("a denied log-in made %d token requests", as.tokenRequests())
	}
}

func TestAuthorizationCodeIssuer(t *testing.T) {
	tests := []struct {
		name     string
		sent     string
		expected string
		require  bool
		wantErr  bool
	}{
		{"matching iss", "https://as.example", "https://as.example", true, false},
		{"different iss", "https://evil.example", "https://as.example", false, true},
		{"missing iss when promised", "", "https://as.example", true, true},
		{"missing iss when not promised", "", "https://as.example", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newStubAS(t)
			as.set(func(a *stubAS) { a.iss = tt.sent })
			b := newBrowser()
			ac := as.authCode(b)
			ac.Issuer, ac.RequireIssuer = tt.expected, tt.require
			_, err := ac.Login(context.Background())
			b.wait(t)
			if got := errors.Is(err, ErrIssuerMismatch); got != tt.wantErr {
				t.Errorf("Login error = %v, want issuer mismatch %v", err, tt.wantErr)
			}
		})
	}
}

func TestAuthorizationCodeCancel(t *testing.T) {
	as := newStubAS(t)
	ctx, cancel := context.WithCancel(context.Background())
	var redirect string
	ac := as.authCode(nil)
	ac.OpenBrowser = func(_ context.Context, u string) error {
		p, _ := url.Parse(u)
		redirect = p.Query().Get("redirect_uri")
		cancel() // the user pressed Cancel while the browser was open
		return nil
	}
	_, err := ac.Login(ctx)
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Login error = %v, want ErrCancelled wrapping context.Canceled", err)
	}
	assertClosed(t, redirect)
}

func TestAuthorizationCodeTimeout(t *testing.T) {
	as := newStubAS(t)
	var redirect string
	ac := as.authCode(nil)
	ac.Timeout = 20 * time.Millisecond
	ac.OpenBrowser = func(_ context.Context, u string) error {
		p, _ := url.Parse(u)
		redirect = p.Query().Get("redirect_uri")
		return nil // the user never finishes
	}
	_, err := ac.Login(context.Background())
	if !errors.Is(err, ErrTimedOut) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Login error = %v, want ErrTimedOut wrapping context.DeadlineExceeded", err)
	}
	assertClosed(t, redirect)
}

func TestAuthorizationCodeBrowserFails(t *testing.T) {
	as := newStubAS(t)
	ac := as.authCode(nil)
	ac.OpenBrowser = func(context.Context, string) error { return errors.New("no browser") }
	if _, err := ac.Login(context.Background()); err == nil || !contains(err.Error(), "open the browser") {
		t.Fatalf("Login error = %v, want the browser failure", err)
	}
}

func TestAuthorizationCodePinnedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	as := newStubAS(t)
	b := newBrowser()
	ac := as.authCode(b)
	ac.Port = port
	var redirect string
	open := ac.OpenBrowser
	ac.OpenBrowser = func(ctx context.Context, u string) error {
		p, _ := url.Parse(u)
		redirect = p.Query().Get("redirect_uri")
		return open(ctx, u)
	}
	if _, err := ac.Login(context.Background()); err != nil {
		t.Fatalf("Login on pinned port: %v", err)
	}
	b.wait(t)
	if want := "http://127.0.0.1:" + strconv.Itoa(port) + "/callback"; redirect != want {
		t.Errorf("redirect_uri = %q, want %q", redirect, want)
	}
}

// assertClosed checks that the loopback listener no longer accepts
// connections.
func assertClosed(t *testing.T, redirect string) {
	t.Helper()
	u, err := url.Parse(redirect)
	if err != nil || u.Host == "" {
		t.Fatalf("no redirect URI seen (%q)", redirect)
	}
	if c, err := net.Dial("tcp", u.Host); err == nil {
		c.Close()
		t.Errorf("the loopback listener %s still accepts connections", u.Host)
	}
}

// TestLoopbackAnswersOneMatchingRequest drives the handler directly.
func TestLoopbackAnswersOneMatchingRequest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLoopback(ln, "the-state", "", false, "")
	defer l.close()
	if ln.Addr().(*net.TCPAddr).IP.String() != "127.0.0.1" {
		t.Errorf("listening on %v, want 127.0.0.1", ln.Addr())
	}
	steps := []struct {
		method, target string
		want           int
	}{
		{http.MethodGet, "/", http.StatusBadRequest},
		{http.MethodGet, "/callback/extra?state=the-state&code=c", http.StatusBadRequest},
		{http.MethodPost, "/callback?state=the-state&code=c", http.StatusMethodNotAllowed},
		{http.MethodGet, "/callback?state=other&code=c", http.StatusBadRequest},
		{http.MethodGet, "/callback?code=c", http.StatusBadRequest},
		{http.MethodGet, "/callback?state=the-state&code=the-code", http.StatusOK},
		{http.MethodGet, "/callback?state=the-state&code=second", http.StatusBadRequest},
	}
	for _, s := range steps {
		rec := httptest.NewRecorder()
		l.ServeHTTP(rec, httptest.NewRequest(s.method, s.target, nil))
		if rec.Code != s.want {
			t.Errorf("%s %s = %d, want %d", s.method, s.target, rec.Code, s.want)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s %s: content type %q", s.method, s.target, ct)
		}
	}
	select {
	case res := <-l.result:
		if res.code != "the-code" || res.err != nil {
			t.Errorf("result = %+v, want the first matching code", res)
		}
	default:
		t.Fatal("no result")
	}
	select {
	case res := <-l.result:
		t.Errorf("a second result %+v", res)
	default:
	}
}

func TestLoopbackEscapesServerText(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLoopback(ln, "s", "", false, "")
	defer l.close()
	rec := httptest.NewRecorder()
	l.ServeHTTP(rec, httptest.NewRequest(http.MethodGet,
		"/callback?state=s&error=access_denied&error_description="+url.QueryEscape("<script>alert(1)</script>"), nil))
	if contains(rec.Body.String(), "<script>") {
		t.Errorf("the page contains the server's unescaped HTML: %s", rec.Body.String())
	}
}
