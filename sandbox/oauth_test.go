package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// callback is a loopback redirect target that reports what the authorization server sent back.
type callback struct {
	srv     *httptest.Server
	results chan url.Values
}

func newCallback(t *testing.T) *callback {
	t.Helper()
	cb := &callback{results: make(chan url.Values, 4)}
	cb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		cb.results <- r.URL.Query()
		_, _ = io.WriteString(w, "You can close this window.")
	}))
	t.Cleanup(cb.srv.Close)
	return cb
}

func (cb *callback) redirectURI() string { return cb.srv.URL + "/callback" }

// browserAction is what the simulated user does on the login page.
type browserAction struct {
	username, password string
	grant              []string // nil: keep every pre-ticked scope
	deny               bool
}

var formAction = regexp.MustCompile(`<form method="post"`)
var checkedScope = regexp.MustCompile(`name="grant_scope" value="([^"]+)" checked`)

// playBrowser opens authURL like a browser would, fills in the login page and submits it.
// It returns the status of the login page's answer when that is not a redirect.
func playBrowser(ctx context.Context, authURL string, act browserAction) (int, error) {
	client := &http.Client{}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req) // follows the redirect to the login page
	if err != nil {
		return 0, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !formAction.Match(page) {
		return resp.StatusCode, fmt.Errorf("login page: status %d: %.300s", resp.StatusCode, page)
	}
	form := url.Values{"username": {act.username}, "password": {act.password}, "decision": {"approve"}}
	if act.deny {
		form.Set("decision", "deny")
	}
	grant := act.grant
	if grant == nil {
		for _, m := range checkedScope.FindAllStringSubmatch(string(page), -1) {
			grant = append(grant, m[1])
		}
	}
	form["grant_scope"] = grant
	// The form has no action: it posts back to the page's own URL.
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, resp.Request.URL.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = client.Do(post) // follows the redirect to the loopback callback
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.Request.URL.Path != "/callback" {
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, fmt.Errorf("login answer: status %d: %.300s", resp.StatusCode, body)
	}
	return resp.StatusCode, nil
}

func desktopConfig(s *Server, redirect string, scopes ...string) *oauth2.Config {
	info := s.Info()
	return &oauth2.Config{
		ClientID:    ClientDesktop,
		Endpoint:    oauth2.Endpoint{AuthURL: info.AuthorizeEndpoint, TokenURL: info.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: redirect,
		Scopes:      scopes,
	}
}

// authorize runs the browser part of the code flow and returns the code.
func authorize(t *testing.T, cfg *oauth2.Config, cb *callback, verifier string, act browserAction) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	state := "state-" + verifier[:12]
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
	errc := make(chan error, 1)
	go func() { // the browser
		_, err := playBrowser(ctx, authURL, act)
		errc <- err
	}()
	if err := <-errc; err != nil {
		t.Fatalf("browser: %v", err)
	}
	res := <-cb.results
	if res.Get("state") != state {
		t.Fatalf("state %q, want %q", res.Get("state"), state)
	}
	if res.Get("error") != "" {
		return "error:" + res.Get("error")
	}
	return res.Get("code")
}

func TestAuthorizationCodePKCEFlow(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{})
	cb := newCallback(t)
	ctx := context.Background()
	cfg := desktopConfig(s, cb.redirectURI(), "openid", "profile", "offline_access", "user/*.read")
	verifier := oauth2.GenerateVerifier()
	code := authorize(t, cfg, cb, verifier, browserAction{username: "gp", password: "gp-password"})

	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if got := tok.Extra("scope"); !sameScopes(fmt.Sprint(got), "openid profile offline_access user/*.read") {
		t.Errorf("scope %q", got)
	}
	claims := jwtClaims(t, tok.AccessToken)
	if claims["sub"] != "gp" || claims["client_id"] != ClientDesktop {
		t.Errorf("claims %v", claims)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token despite offline_access")
	}
	if r := get(t, s.FHIRBase()+"/Observation?_count=1", tok.AccessToken); r.status != http.StatusOK {
		t.Errorf("Observation with gp token: %d %s", r.status, r.body)
	}

	t.Run("replayed code", func(t *testing.T) {
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		assertOAuthError(t, err, "invalid_grant")
		// Replaying the code revokes what it issued.
		if r := get(t, s.FHIRBase()+"/Patient", tok.AccessToken); r.status != http.StatusUnauthorized {
			t.Errorf("token after code replay: status %d", r.status)
		}
	})
}

func TestAuthorizationCodeRejections(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{})
	cb := newCallback(t)
	ctx := context.Background()
	cfg := desktopConfig(s, cb.redirectURI(), "user/Patient.read")

	t.Run("wrong verifier", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		code := authorize(t, cfg, cb, verifier, browserAction{username: "receptionist", password: "receptionist-password"})
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		assertOAuthError(t, err, "invalid_grant")
	})
	t.Run("no verifier", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		code := authorize(t, cfg, cb, verifier, browserAction{username: "receptionist", password: "receptionist-password"})
		_, err := cfg.Exchange(ctx, code)
		assertOAuthError(t, err, "invalid_grant")
	})
	t.Run("deny", func(t *testing.T) {
		code := authorize(t, cfg, cb, oauth2.GenerateVerifier(), browserAction{username: "gp", deny: true})
		if code != "error:access_denied" {
			t.Errorf("got %q, want access_denied", code)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		authURL := cfg.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		status, err := playBrowser(ctx, authURL, browserAction{username: "gp", password: "nope"})
		if err == nil || status != http.StatusUnauthorized {
			t.Errorf("status %d, err %v", status, err)
		}
	})
	t.Run("PKCE required for the public client", func(t *testing.T) {
		resp := noRedirectGet(t, cfg.AuthCodeURL("state-12345678"))
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=invalid_request") {
			t.Errorf("status %d location %q", resp.StatusCode, loc)
		}
	})
	t.Run("plain PKCE refused", func(t *testing.T) {
		resp := noRedirectGet(t, cfg.AuthCodeURL("state-12345678",
			oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=invalid_request") {
			t.Errorf("status %d location %q", resp.StatusCode, loc)
		}
	})
	for _, redirect := range []string{
		"http://evil.example/callback",                                   // another host
		strings.Replace(cb.redirectURI(), "/callback", "/other", 1),      // another path
		strings.Replace(cb.redirectURI(), "127.0.0.1", "localhost", 1),   // not a loopback IP literal
		strings.Replace(cb.redirectURI(), "/callback", "/callback/x", 1), // path prefix only
	} {
		t.Run("redirect "+redirect, func(t *testing.T) {
			bad := desktopConfig(s, redirect, "user/Patient.read")
			resp := noRedirectGet(t, bad.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("status %d location %q, want 400 without redirect", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	t.Run("loopback on any port", func(t *testing.T) {
		other := newCallback(t)
		if other.redirectURI() == cb.redirectURI() {
			t.Skip("same port")
		}
		cfg2 := desktopConfig(s, other.redirectURI(), "user/Patient.read")
		verifier := oauth2.GenerateVerifier()
		code := authorize(t, cfg2, other, verifier, browserAction{username: "receptionist", password: "receptionist-password"})
		if _, err := cfg2.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err != nil {
			t.Errorf("exchange: %v", err)
		}
	})
}

func noRedirectGet(t *testing.T, u string) *http.Response {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func assertOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("error %v, want oauth2 error %s", err, code)
	}
	if re.ErrorCode != code {
		t.Errorf("error code %q (%s), want %q", re.ErrorCode, re.ErrorDescription, code)
	}
}

func TestConsentNarrowsScopes(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{})
	cb := newCallback(t)
	cfg := desktopConfig(s, cb.redirectURI(), "profile", "user/Patient.read", "user/MedicationRequest.read", "user/Observation.read")
	tests := []struct {
		name  string
		act   browserAction
		scope string
	}{
		{"user narrows", browserAction{username: "gp", password: "gp-password", grant: []string{"user/Patient.read"}}, "user/Patient.read"},
		{"user rights cap", browserAction{username: "pharmacist", password: "pharmacist-password"}, "profile user/Patient.read user/MedicationRequest.read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verifier := oauth2.GenerateVerifier()
			code := authorize(t, cfg, cb, verifier, tt.act)
			tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(tok.Extra("scope")); !sameScopes(got, tt.scope) {
				t.Errorf("scope %q, want %q", got, tt.scope)
			}
			if got := jwtClaims(t, tok.AccessToken)["scope"]; !sameScopes(fmt.Sprint(got), tt.scope) {
				t.Errorf("scope claim %q, want %q", got, tt.scope)
			}
		})
	}
}

func TestNoScopeRequestedGetsTheUsersScopes(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{Patients: 2})
	cb := newCallback(t)
	cfg := desktopConfig(s, cb.redirectURI())
	verifier := oauth2.GenerateVerifier()
	code := authorize(t, cfg, cb, verifier, browserAction{username: "pharmacist", password: "pharmacist-password"})
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	want := "profile user/Patient.read user/MedicationRequest.read user/MedicationStatement.read user/AllergyIntolerance.read user/MedicationPrescription.read"
	if got := fmt.Sprint(tok.Extra("scope")); !sameScopes(got, want) {
		t.Errorf("scope %q, want %q", got, want)
	}
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{})
	legacy := clientInfo(t, s, ClientLegacyPassword)
	first := postToken(t, s, url.Values{"grant_type": {"password"}, "username": {"nurse"}, "password": {"nurse-password"},
		"scope": {"offline_access patient/Patient.read"}}, legacy.ClientID, legacy.ClientSecret)
	if first.status != http.StatusOK || first.RefreshToken == "" {
		t.Fatalf("password grant: %d %s %s", first.status, first.Error, first.ErrorDescription)
	}
	second := postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}, legacy.ClientID, legacy.ClientSecret)
	if second.status != http.StatusOK || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh: %d %s %s", second.status, second.Error, second.ErrorDescription)
	}
	if !sameScopes(second.Scope, first.Scope) {
		t.Errorf("refreshed scope %q, first %q", second.Scope, first.Scope)
	}
	if r := get(t, s.FHIRBase()+"/Patient?_count=1", second.AccessToken); r.status != http.StatusOK {
		t.Errorf("refreshed token: %d %s", r.status, r.body)
	}
	if r := get(t, s.FHIRBase()+"/Patient?_count=1", first.AccessToken); r.status != http.StatusUnauthorized {
		t.Errorf("access token replaced by refresh: status %d", r.status)
	}
	// The used refresh token is rejected, and its reuse revokes the whole grant.
	replay := postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}, legacy.ClientID, legacy.ClientSecret)
	if replay.status != http.StatusBadRequest || replay.Error != "invalid_grant" {
		t.Errorf("replayed refresh token: %d %s", replay.status, replay.Error)
	}
	if r := get(t, s.FHIRBase()+"/Patient?_count=1", second.AccessToken); r.status != http.StatusUnauthorized {
		t.Errorf("token after refresh-token reuse: status %d", r.status)
	}
}

func TestDesktopRefresh(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{})
	cb := newCallback(t)
	cfg := desktopConfig(s, cb.redirectURI(), "offline_access", "user/Patient.read")
	verifier := oauth2.GenerateVerifier()
	code := authorize(t, cfg, cb, verifier, browserAction{username: "receptionist", password: "receptionist-password"})
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	// A public client refreshes without a secret.
	next := postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {ClientDesktop}}, "", "")
	if next.status != http.StatusOK || next.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %d %s %s", next.status, next.Error, next.ErrorDescription)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{})
	patient := clientInfo(t, s, ClientPatientAccess)
	legacy := clientInfo(t, s, ClientLegacyPassword)
	tests := []struct {
		name       string
		form       url.Values
		id, secret string
		wantStatus int
		wantError  string
	}{
		{"client_secret_post", url.Values{"grant_type": {"client_credentials"}, "client_id": {patient.ClientID}, "client_secret": {patient.ClientSecret}}, "", "", 200, ""},
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}}, patient.ClientID, "wrong", 401, "invalid_client"},
		{"unknown client", url.Values{"grant_type": {"client_credentials"}}, "nobody", "x", 401, "invalid_client"},
		{"scope the client lacks", url.Values{"grant_type": {"client_credentials"}, "scope": {"user/Observation.read"}}, patient.ClientID, patient.ClientSecret, 400, "invalid_scope"},
		{"grant the client lacks", url.Values{"grant_type": {"password"}, "username": {"gp"}, "password": {"gp-password"}}, patient.ClientID, patient.ClientSecret, 400, "unauthorized_client"},
		{"password grant", url.Values{"grant_type": {"password"}, "username": {"gp"}, "password": {"gp-password"}, "scope": {"user/*.read"}}, legacy.ClientID, legacy.ClientSecret, 200, ""},
		{"password grant default scopes", url.Values{"grant_type": {"password"}, "username": {"receptionist"}, "password": {"receptionist-password"}}, legacy.ClientID, legacy.ClientSecret, 200, ""},
		{"wrong user password", url.Values{"grant_type": {"password"}, "username": {"gp"}, "password": {"x"}}, legacy.ClientID, legacy.ClientSecret, 400, "invalid_grant"},
		{"scope the user lacks", url.Values{"grant_type": {"password"}, "username": {"receptionist"}, "password": {"receptionist-password"}, "scope": {"user/*.read"}}, legacy.ClientID, legacy.ClientSecret, 400, "invalid_scope"},
		{"unsupported grant", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}, patient.ClientID, patient.ClientSecret, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := postToken(t, s, tt.form, tt.id, tt.secret)
			if tr.status != tt.wantStatus || (tt.wantError != "" && tr.Error != tt.wantError) {
				t.Errorf("status %d error %q (%s), want %d %q", tr.status, tr.Error, tr.ErrorDescription, tt.wantStatus, tt.wantError)
			}
			if tt.wantStatus == 200 && tr.AccessToken == "" {
				t.Error("no access token")
			}
		})
	}
	t.Run("password default scopes are the user's", func(t *testing.T) {
		tr := postToken(t, s, url.Values{"grant_type": {"password"}, "username": {"receptionist"}, "password": {"receptionist-password"}}, legacy.ClientID, legacy.ClientSecret)
		if !sameScopes(tr.Scope, "profile user/Patient.read") || jwtClaims(t, tr.AccessToken)["sub"] != "receptionist" {
			t.Errorf("scope %q claims %v", tr.Scope, jwtClaims(t, tr.AccessToken))
		}
	})
}

func TestExpiredTokenWithInjectedClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := startSandbox(t, Config{Now: clock.Now, TokenTTL: 2 * time.Minute})
	c := clientInfo(t, s, ClientPatientAccess)
	tr := postToken(t, s, url.Values{"grant_type": {"client_credentials"}}, c.ClientID, c.ClientSecret)
	if tr.ExpiresIn != 120 {
		t.Errorf("expires_in %d, want 120", tr.ExpiresIn)
	}
	if r := get(t, s.FHIRBase()+"/Patient?_count=1", tr.AccessToken); r.status != http.StatusOK {
		t.Fatalf("fresh token: %d", r.status)
	}
	if !introspect(t, s, tr.AccessToken, c) {
		t.Error("fresh token not active")
	}
	clock.Advance(2*time.Minute + time.Second)
	r := get(t, s.FHIRBase()+"/Patient?_count=1", tr.AccessToken)
	if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("expired token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	if d := outcome(t, r); !strings.Contains(d, "expired") {
		t.Errorf("diagnostics %q", d)
	}
	if introspect(t, s, tr.AccessToken, c) {
		t.Error("expired token still active")
	}
}

func TestRevokedToken(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{})
	c := clientInfo(t, s, ClientPatientAccess)
	tok := clientToken(t, s, ClientPatientAccess)
	other := clientToken(t, s, ClientPatientAccess)
	if !introspect(t, s, tok, c) {
		t.Fatal("token not active")
	}
	revoke(t, s, tok, c)
	r := get(t, s.FHIRBase()+"/Patient", tok)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", r.status)
	}
	if d := outcome(t, r); !strings.Contains(d, "revoked") {
		t.Errorf("diagnostics %q", d)
	}
	if introspect(t, s, tok, c) {
		t.Error("revoked token still active")
	}
	if r := get(t, s.FHIRBase()+"/Patient?_count=1", other); r.status != http.StatusOK {
		t.Errorf("another token of the same client: %d", r.status)
	}
}

// introspect asks the introspection endpoint whether token is active.
func introspect(t *testing.T, s *Server, token string, c ClientInfo) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.Info().IntrospectionEndpoint, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ClientID, c.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ir struct {
		Active   bool   `json:"active"`
		Scope    string `json:"scope"`
		ClientID string `json:"client_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ir); err != nil {
		t.Fatalf("introspection: %d %v", resp.StatusCode, err)
	}
	if ir.Active && ir.ClientID != c.ClientID {
		t.Errorf("introspection client_id %q", ir.ClientID)
	}
	return ir.Active
}

func TestDiscoveryDocuments(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{})
	info := s.Info()
	root := strings.TrimSuffix(info.Issuer, "/ccri-auth")
	for _, u := range []string{
		info.FHIRBase + "/.well-known/smart-configuration",
		info.Issuer + "/.well-known/openid-configuration",
		root + "/.well-known/oauth-authorization-server/ccri-auth",
	} {
		r := get(t, u, "")
		var doc map[string]any
		if r.status != http.StatusOK || json.Unmarshal(r.body, &doc) != nil {
			t.Fatalf("%s: %d %s", u, r.status, r.body)
		}
		if doc["token_endpoint"] != info.TokenEndpoint || doc["authorization_endpoint"] != info.AuthorizeEndpoint {
			t.Errorf("%s: %v", u, doc)
		}
	}
	r := get(t, info.JWKSURI, "")
	var jwks struct {
		Keys []struct{ Kty, Crv, Alg, Kid string } `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &jwks); err != nil || len(jwks.Keys) != 1 || jwks.Keys[0].Alg != "ES256" {
		t.Errorf("jwks: %s", r.body)
	}
}
