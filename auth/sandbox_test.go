package auth

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

// startSandbox runs the built-in CCRI stand-in on 127.0.0.1 for one test.
func startSandbox(t *testing.T, cfg sandbox.Config) (*sandbox.Server, sandbox.Info) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Patients == 0 {
		cfg.Patients = 5
	}
	srv, err := sandbox.Start(cfg)
	if err != nil {
		t.Fatalf("sandbox.Start: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, srv.Info()
}

func sandboxClient(t *testing.T, info sandbox.Info, id string) sandbox.ClientInfo {
	t.Helper()
	for _, c := range info.Clients {
		if c.ClientID == id {
			return c
		}
	}
	t.Fatalf("the sandbox has no client %q", id)
	return sandbox.ClientInfo{}
}

func sandboxUser(t *testing.T, info sandbox.Info, name string) sandbox.UserInfo {
	t.Helper()
	for _, u := range info.Users {
		if u.Username == name {
			return u
		}
	}
	t.Fatalf("the sandbox has no user %q", name)
	return sandbox.UserInfo{}
}

// fhirGet reads base/Type?_count=1 with the session's token.
func fhirGet(t *testing.T, sess *Session, base, typ string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, base+"/"+typ+"?_count=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := sess.HTTPClient(nil).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", typ, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentSize))
	return resp.StatusCode, body
}

func TestSandboxDiscovery(t *testing.T) {
	for _, noWellKnown := range []bool{false, true} {
		name := "with well-known documents"
		if noWellKnown {
			name = "like the real CCRI: CapabilityStatement only"
		}
		t.Run(name, func(t *testing.T) {
			_, info := startSandbox(t, sandbox.Config{NoWellKnown: noWellKnown})
			d, err := Discover(context.Background(), nil, info.FHIRBase)
			if err != nil {
				t.Fatalf("Discover: %v\n%s", err, stepsText(d))
			}
			if d.TokenEndpoint != info.TokenEndpoint || d.AuthorizationEndpoint != info.AuthorizeEndpoint ||
				d.RevocationEndpoint != info.RevocationEndpoint {
				t.Errorf("endpoints %q %q %q, want %q %q %q", d.TokenEndpoint, d.AuthorizationEndpoint, d.RevocationEndpoint,
					info.TokenEndpoint, info.AuthorizeEndpoint, info.RevocationEndpoint)
			}
			if d.FHIRRelease != "STU3" || !d.LooksLikeCCRI {
				t.Errorf("release %q, CCRI %v", d.FHIRRelease, d.LooksLikeCCRI)
			}
			if p, _ := ResolvePolicy(PolicyAuto, d); p != PolicyCCRI {
				t.Errorf("auto policy = %s", p)
			}
			if noWellKnown {
				if d.Steps[0].Status != http.StatusNotFound || !d.Steps[1].Skipped || !d.Steps[2].OK || d.JWKSURI != "" {
					t.Errorf("steps:\n%s", stepsText(d))
				}
				return
			}
			if d.Issuer != info.Issuer || d.JWKSURI != info.JWKSURI || d.IntrospectionEndpoint != info.IntrospectionEndpoint {
				t.Errorf("issuer %q JWKS %q", d.Issuer, d.JWKSURI)
			}
			if !slices.Contains(d.PKCEMethods, "S256") || !slices.Contains(d.GrantTypes, "client_credentials") {
				t.Errorf("PKCE %v grants %v", d.PKCEMethods, d.GrantTypes)
			}
			for i, s := range d.Steps {
				if !s.OK {
					t.Errorf("step %d: %s", i, s)
				}
			}
		})
	}
}

func TestSandboxClientCredentials(t *testing.T) {
	clock := newFakeClock()
	_, info := startSandbox(t, sandbox.Config{Now: clock.Now, TokenTTL: 90 * time.Minute})
	for _, c := range info.Clients {
		if !slices.Contains(c.GrantTypes, "client_credentials") {
			continue
		}
		for _, method := range []ClientAuth{ClientAuthBasic, ClientAuthBody} {
			t.Run(c.ClientID+"/"+string(method), func(t *testing.T) {
				sess, err := ClientCredentials{
					TokenURL: info.TokenEndpoint, ClientID: c.ClientID, ClientSecret: c.ClientSecret, Auth: method,
					Scopes: c.Scopes, JWKSURI: info.JWKSURI, RevocationURL: info.RevocationEndpoint, Now: clock.Now,
				}.Login(context.Background())
				if err != nil {
					t.Fatalf("Login: %v", err)
				}
				ti := sess.Info()
				if ti.ScopeSource != ScopesFromResponse || !sameSet(ti.Granted, c.Scopes) {
					t.Errorf("granted %v (%s), want %v from the response", ti.Granted, ti.ScopeSource, c.Scopes)
				}
				if sess.TimeLeft() != 90*time.Minute || ti.ExpiryDisagrees {
					t.Errorf("TimeLeft %v, disagreement %v", sess.TimeLeft(), ti.ExpiryDisagreement)
				}
				if ti.JWT == nil || !ti.JWT.Verified {
					t.Errorf("JWT not verified against the sandbox's JWKS: %+v", ti.JWT)
				}
				if st, _ := fhirGet(t, sess, info.FHIRBase, "Organization"); st != http.StatusOK {
					t.Errorf("Organization read: %d", st)
				}
			})
		}
	}
	t.Run("wrong secret", func(t *testing.T) {
		_, err := ClientCredentials{TokenURL: info.TokenEndpoint, ClientID: "medication-access", ClientSecret: "wrong",
			Auth: ClientAuthBasic}.Login(context.Background())
		var te *TokenError
		if !errors.As(err, &te) || te.Code != "invalid_client" {
			t.Fatalf("Login error = %v, want invalid_client", err)
		}
	})
}

func TestSandboxPasswordGrantRefreshAndRevoke(t *testing.T) {
	clock := newFakeClock()
	_, info := startSandbox(t, sandbox.Config{Now: clock.Now, TokenTTL: 10 * time.Minute})
	c := sandboxClient(t, info, "legacy-password")
	u := sandboxUser(t, info, "nurse")
	sess, err := PasswordGrant{
		TokenURL: info.TokenEndpoint, ClientID: c.ClientID, ClientSecret: c.ClientSecret, Auth: ClientAuthBasic,
		Username: u.Username, Password: u.Password, Scopes: append([]string{"offline_access"}, u.Scopes...),
		RevocationURL: info.RevocationEndpoint, JWKSURI: info.JWKSURI, Now: clock.Now,
	}.Login(context.Background())
	if err != nil {
		t.Fatalf("password Login: %v", err)
	}
	if ti := sess.Info(); !ti.HasRefreshToken || ti.Renewal != "with the refresh token" || !ti.JWT.Verified {
		t.Fatalf("Info = %+v", ti)
	}
	if st, _ := fhirGet(t, sess, info.FHIRBase, "Observation"); st != http.StatusOK {
		t.Errorf("Observation read: %d", st)
	}
	rec := record(sess)
	clock.Advance(11 * time.Minute) // expired on both clocks
	if st, _ := fhirGetRaw(t, sess.Current().AccessToken, info.FHIRBase, "Patient"); st != http.StatusUnauthorized {
		t.Errorf("the sandbox accepted an expired token: %d", st)
	}
	sess.Tick(context.Background())
	if got := rec.kinds(); !slices.Equal(got, []EventKind{EventExpired, EventRenewed}) {
		t.Fatalf("events = %v (%v)", got, rec.last())
	}
	if st, _ := fhirGet(t, sess, info.FHIRBase, "Patient"); st != http.StatusOK {
		t.Errorf("Patient read after renewal: %d", st)
	}
	old := sess.Current().AccessToken
	if err := sess.Logout(context.Background()); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if st, _ := fhirGetRaw(t, old, info.FHIRBase, "Patient"); st != http.StatusUnauthorized {
		t.Errorf("the revoked token still reads: %d", st)
	}
}

func TestSandboxRenewalFailure(t *testing.T) {
	clock := newFakeClock()
	_, info := startSandbox(t, sandbox.Config{Now: clock.Now, TokenTTL: 10 * time.Minute})
	c := sandboxClient(t, info, "legacy-password")
	u := sandboxUser(t, info, "receptionist")
	sess, err := PasswordGrant{
		TokenURL: info.TokenEndpoint, ClientID: c.ClientID, ClientSecret: c.ClientSecret, Auth: ClientAuthBasic,
		Username: u.Username, Password: u.Password, Scopes: append([]string{"offline_access"}, u.Scopes...), Now: clock.Now,
	}.Login(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Revoke the refresh token behind the session's back, and make asking
	// again impossible by forgetting the password.
	r := Revocation{Endpoint: info.RevocationEndpoint, ClientID: c.ClientID, ClientSecret: c.ClientSecret, Auth: ClientAuthBasic}
	if err := r.Revoke(context.Background(), sess.Current().RefreshToken, "refresh_token"); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	sess.client.reask = nil
	rec := record(sess)
	clock.Advance(9*time.Minute + 50*time.Second)
	sess.Tick(context.Background())
	if got := rec.kinds(); !slices.Equal(got, []EventKind{EventRenewalFailed}) {
		t.Fatalf("events = %v", got)
	}
	var te *TokenError
	if ev := rec.last(); !errors.As(ev.Err, &te) || te.Code == "" {
		t.Errorf("renewal failure %v does not carry the server's refusal", ev.Err)
	}
}

// sandboxBrowser plays the user at the sandbox's login page.
type sandboxBrowser struct {
	user     sandbox.UserInfo
	decision string
	keep     func(scope string) bool // nil keeps every offered scope
	forge    bool                    // first send a callback with a wrong state
	done     chan browserVisit
	forged   int
}

func (b *sandboxBrowser) open(_ context.Context, authURL string) error {
	b.done = make(chan browserVisit, 1)
	go func() { b.done <- b.visit(authURL) }()
	return nil
}

var grantScopeInput = regexp.MustCompile(`name="grant_scope" value="([^"]*)"`)

func (b *sandboxBrowser) visit(authURL string) browserVisit {
	if b.forge {
		u, _ := url.Parse(authURL)
		resp, err := http.Get(u.Query().Get("redirect_uri") + "?state=forged&code=stolen")
		if err == nil {
			b.forged = resp.StatusCode
			resp.Body.Close()
		}
	}
	resp, err := http.Get(authURL)
	if err != nil {
		return browserVisit{err: err}
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "<form") {
		return browserVisit{status: resp.StatusCode, body: string(page), err: errors.New("no login form")}
	}
	form := url.Values{"username": {b.user.Username}, "password": {b.user.Password}, "decision": {b.decision}}
	for _, m := range grantScopeInput.FindAllStringSubmatch(string(page), -1) {
		if sc := html.UnescapeString(m[1]); b.keep == nil || b.keep(sc) {
			form.Add("grant_scope", sc)
		}
	}
	resp, err = http.PostForm(resp.Request.URL.String(), form)
	if err != nil {
		return browserVisit{err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return browserVisit{status: resp.StatusCode, body: string(body)}
}

func (b *sandboxBrowser) wait(t *testing.T) browserVisit {
	t.Helper()
	select {
	case v := <-b.done:
		return v
	case <-time.After(30 * time.Second): // a guard against hanging, not a timed assertion
		t.Fatal("the browser goroutine never finished")
		return browserVisit{}
	}
}

func TestSandboxAuthorizationCode(t *testing.T) {
	clock := newFakeClock()
	_, info := startSandbox(t, sandbox.Config{Now: clock.Now, TokenTTL: 5 * time.Minute})
	d, err := Discover(context.Background(), nil, info.FHIRBase)
	if err != nil {
		t.Fatal(err)
	}
	desktop := sandboxClient(t, info, "ccexplorer-desktop")
	pharmacist := sandboxUser(t, info, "pharmacist")
	scopes := append([]string{"openid", "offline_access"}, pharmacist.Scopes...)
	flow := func(b *sandboxBrowser) AuthorizationCode {
		ac := d.AuthorizationCode(desktop.ClientID, "", scopes, "")
		ac.OpenBrowser, ac.Timeout, ac.Now = b.open, time.Minute, clock.Now
		return ac
	}

	t.Run("approve, with a forged callback first", func(t *testing.T) {
		b := &sandboxBrowser{user: pharmacist, decision: "approve", forge: true}
		sess, err := flow(b).Login(context.Background())
		if err != nil {
			t.Fatalf("Login: %v", err)
		}
		v := b.wait(t)
		if v.status != http.StatusOK || !strings.Contains(v.body, "return to Care Connect Explorer") {
			t.Errorf("final page %d %q", v.status, v.body)
		}
		if b.forged != http.StatusBadRequest {
			t.Errorf("the forged callback got %d, want 400", b.forged)
		}
		ti := sess.Info()
		if ti.ScopeSource != ScopesFromResponse || !sameSet(ti.Granted, scopes) || !ti.HasRefreshToken || !ti.JWT.Verified {
			t.Errorf("Info = %+v", ti)
		}
		access := CheckAccess(PolicyCCRI, ti.Granted, []string{"MedicationRequest", "Observation"})
		if access[0].Readability != Readable || access[1].Readability != NotReadable {
			t.Errorf("access %v", access)
		}
		rec := record(sess)
		clock.Advance(5 * time.Minute)
		sess.Tick(context.Background())
		if got := rec.kinds(); !slices.Equal(got, []EventKind{EventExpired, EventRenewed}) || !strings.Contains(rec.last().Message, "refresh token") {
			t.Errorf("events %v", got)
		}
		if st, _ := fhirGet(t, sess, info.FHIRBase, "MedicationRequest"); st != http.StatusOK {
			t.Errorf("MedicationRequest after refresh: %d", st)
		}
		if err := sess.Logout(context.Background()); err != nil {
			t.Errorf("Logout: %v", err)
		}
	})

	t.Run("narrowed consent", func(t *testing.T) {
		b := &sandboxBrowser{user: pharmacist, decision: "approve",
			keep: func(sc string) bool { return sc == "openid" || sc == "user/Patient.read" }}
		sess, err := flow(b).Login(context.Background())
		if err != nil {
			t.Fatalf("Login: %v", err)
		}
		b.wait(t)
		if g, src := sess.GrantedScopes(); src != ScopesFromResponse || !sameSet(g, []string{"openid", "user/Patient.read"}) {
			t.Errorf("granted %v (%s)", g, src)
		}
		status, body := fhirGet(t, sess, info.FHIRBase, "MedicationRequest")
		a := CheckAccess(PolicyCCRI, sess.Info().Granted, []string{"MedicationRequest"})[0].WithServerAnswer(status, body)
		if a.Readability != NotReadable || a.Finding != NoFinding || status != http.StatusForbidden {
			t.Errorf("MedicationRequest with narrowed scopes: %d %s", status, a)
		}
	})

	t.Run("denied consent", func(t *testing.T) {
		b := &sandboxBrowser{user: pharmacist, decision: "deny"}
		_, err := flow(b).Login(context.Background())
		var ae *AuthorizationError
		if !errors.As(err, &ae) || ae.Code != "access_denied" {
			t.Fatalf("Login error = %v, want access_denied", err)
		}
		if v := b.wait(t); !strings.Contains(v.body, "access_denied") {
			t.Errorf("final page %q", v.body)
		}
	})
}

// TestSandboxAccessAgreement checks that this package's predictions match
// what the sandbox actually answers, for every demo client and resource
// type, under both of the sandbox's policies.
func TestSandboxAccessAgreement(t *testing.T) {
	for _, policy := range []Policy{PolicyCCRI, PolicySMART} {
		t.Run(string(policy), func(t *testing.T) {
			_, info := startSandbox(t, sandbox.Config{Policy: string(policy)})
			d, err := Discover(context.Background(), nil, info.FHIRBase)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range info.Clients {
				if !slices.Contains(c.GrantTypes, "client_credentials") {
					continue
				}
				sess, err := d.ClientCredentials(c.ClientID, c.ClientSecret, nil, ClientAuthBody).Login(context.Background())
				if err != nil {
					t.Fatalf("%s: %v", c.ClientID, err)
				}
				granted, _ := sess.GrantedScopes()
				for _, a := range CheckAccess(policy, granted, sandboxTypes) {
					status, body := fhirGet(t, sess, info.FHIRBase, a.Type)
					if status != http.StatusOK && status != http.StatusForbidden {
						t.Errorf("%s %s: HTTP %d %s", c.ClientID, a.Type, status, OutcomeText(body))
						continue
					}
					got := a.WithServerAnswer(status, body)
					switch {
					case got.Finding == NoFinding:
					case policy == PolicySMART && got.Finding == AllowedByServer && slices.Contains(ccriOpen, a.Type):
						// The sandbox keeps the CCRI's open directory types under
						// its SMART policy too; strict SMART predicts them
						// unreadable, and the finding tells the user.
						t.Logf("known difference: %s: %s", c.ClientID, got)
					default:
						t.Errorf("%s (%s): %s", c.ClientID, strings.Join(granted, " "), got)
					}
				}
			}
		})
	}
}

// fhirGetRaw reads with a raw token, bypassing the session's expiry check.
func fhirGetRaw(t *testing.T, token, base, typ string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/"+typ+"?_count=1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
