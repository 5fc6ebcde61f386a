// Package connect turns a saved profile into a live connection: it starts
// the built-in sandbox when a profile needs it, builds an HTTP client that
// trusts the profile's extra CAs, discovers the server's OAuth endpoints,
// runs the profile's grant, keeps the session in the keyring and hands out
// FHIR clients. The window and the command line share it, so both log in the
// same way.
//
// It never imports Fyne.
package connect

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
	"github.com/careconnectexplorer/ccexplorer/profile"
	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

// Workspace ties the saved profiles, the keyring and the built-in sandbox
// together. It is safe for concurrent use.
type Workspace struct {
	// Store holds the profiles; Secrets the keyring (never nil after Open).
	Store   *profile.Store
	Secrets *profile.Secrets
	// SecretsProblem, when set, says why secrets are kept for this run only.
	SecretsProblem error

	// SandboxConfig configures the built-in sandbox, started on first use.
	SandboxConfig sandbox.Config
	// Now is the sessions' clock; nil means time.Now.
	Now auth.Clock
	// OpenBrowser shows the user an authorization URL; nil means the
	// system browser.
	OpenBrowser func(ctx context.Context, url string) error

	mu sync.Mutex
	sb *sandbox.Server
}

// Options configure Open.
type Options struct {
	// Dir is the configuration folder; "" means profile.DefaultDir().
	Dir string
	// Passphrase asks for the encrypted file keyring's passphrase.
	Passphrase profile.PassphraseFunc
	// KeyringBackend overrides CCEXPLORER_KEYRING_BACKEND when set.
	KeyringBackend string
}

// Open opens the profile store and the keyring. A keyring that cannot be
// opened is not fatal: secrets are then kept in memory for this run and
// SecretsProblem says why. A profile file that cannot be read is fatal (the
// error is a *profile.CorruptError for a damaged file).
func Open(o Options) (*Workspace, error) {
	store, err := profile.Open(o.Dir)
	if err != nil {
		return nil, err
	}
	w := &Workspace{Store: store}
	dir := o.Dir
	if dir == "" {
		dir = store.Dir()
	}
	sec, err := profile.OpenSecrets(profile.SecretsConfig{
		Backend: o.KeyringBackend, FileDir: dir + "/keyring", Passphrase: o.Passphrase,
	})
	if err != nil {
		sec = profile.MemorySecrets()
		w.SecretsProblem = err
	}
	w.Secrets = sec
	store.SetSecrets(sec)
	return w, nil
}

// Sandbox returns the built-in sandbox, starting it on first use.
func (w *Workspace) Sandbox() (*sandbox.Server, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sb != nil {
		return w.sb, nil
	}
	srv, err := sandbox.Start(w.SandboxConfig)
	if err != nil {
		return nil, fmt.Errorf("start the built-in sandbox: %w", err)
	}
	w.sb = srv
	return srv, nil
}

// SandboxRunning returns the built-in sandbox if it has been started.
func (w *Workspace) SandboxRunning() *sandbox.Server {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sb
}

// Close stops the built-in sandbox, if it runs.
func (w *Workspace) Close() error {
	w.mu.Lock()
	srv := w.sb
	w.sb = nil
	w.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// Target is a profile made ready to use: its real base URL, an HTTP client
// for it, its OAuth endpoints and the access policy that applies.
type Target struct {
	Profile profile.Profile
	BaseURL string
	// HTTP makes every request for this profile (TLS verification on, the
	// profile's extra CAs trusted, no redirect to another origin or from
	// https to http).
	HTTP *http.Client
	// Discovery is what the discovery chain found; nil for a profile
	// without a grant.
	Discovery *auth.Discovery
	// Policy is the access policy in force and PolicyWhy why.
	Policy    auth.Policy
	PolicyWhy string

	secret string
}

// HasSecret reports whether a client secret is known for the target.
func (t *Target) HasSecret() bool { return t.secret != "" }

// ErrNoGrant is returned by Login for a profile whose grant is "none".
var ErrNoGrant = errors.New("this profile does not log in (grant: none)")

// Resolve prepares p for use: for a sandbox profile it starts the sandbox
// and takes its URL and demo secret; it reads the client secret from the
// keyring, builds the HTTP client and runs discovery (the profile's
// endpoint overrides win over what is discovered).
func (w *Workspace) Resolve(ctx context.Context, p profile.Profile) (*Target, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	t := &Target{Profile: p, BaseURL: strings.TrimRight(p.BaseURL, "/")}
	if p.IsSandbox() {
		srv, err := w.Sandbox()
		if err != nil {
			return nil, err
		}
		info := srv.Info()
		t.BaseURL = info.FHIRBase
		found := false
		for _, c := range info.Clients {
			if c.ClientID == p.SandboxClient {
				t.secret, found = c.ClientSecret, true
			}
		}
		if !found {
			return nil, fmt.Errorf("the built-in sandbox has no demo client %q", p.SandboxClient)
		}
	} else if p.Grant != profile.GrantNone {
		s, err := w.Secrets.Get(p.Name, profile.SecretClientSecret)
		switch {
		case err == nil:
			t.secret = s
		case errors.Is(err, profile.ErrNoSecret):
		default:
			return nil, fmt.Errorf("read the client secret: %w", err)
		}
	}
	hc, err := HTTPClient(p)
	if err != nil {
		return nil, err
	}
	t.HTTP = hc
	if p.Grant != profile.GrantNone {
		d, err := auth.Discover(ctx, hc, t.BaseURL)
		if err != nil && !hasOverrides(p) {
			return nil, fmt.Errorf("find the server's OAuth endpoints: %w", err)
		}
		if d == nil {
			d = &auth.Discovery{FHIRBase: t.BaseURL}
		}
		applyOverrides(d, p)
		t.Discovery = d
	}
	t.Policy, t.PolicyWhy = auth.ResolvePolicy(auth.Policy(p.Policy), t.Discovery)
	return t, nil
}

func hasOverrides(p profile.Profile) bool { return p.TokenURL != "" }

func applyOverrides(d *auth.Discovery, p profile.Profile) {
	if p.TokenURL != "" {
		d.TokenEndpoint = p.TokenURL
	}
	if p.AuthorizeURL != "" {
		d.AuthorizationEndpoint = p.AuthorizeURL
	}
	if p.RevokeURL != "" {
		d.RevocationEndpoint = p.RevokeURL
	}
}

// LoginOptions carry what a log-in may need beyond the profile.
type LoginOptions struct {
	// Password is the password grant's password; "" means the keyring's
	// (when the profile remembers it).
	Password string
	// OpenBrowser overrides the workspace's browser opener.
	OpenBrowser func(ctx context.Context, url string) error
}

// Login runs the profile's grant and saves the session in the keyring. A
// keyring failure does not fail the log-in: the session is returned with
// the error as saveErr, so the caller can say it will not be remembered.
func (w *Workspace) Login(ctx context.Context, t *Target, o LoginOptions) (sess *auth.Session, saveErr error, err error) {
	p := t.Profile
	d := t.Discovery
	if p.Grant == profile.GrantNone || d == nil {
		return nil, nil, ErrNoGrant
	}
	fallback := auth.ClientAuth(p.ClientAuth)
	params := auth.TokenParams(p.Audience)
	switch p.Grant {
	case profile.GrantClientCredentials:
		g := d.ClientCredentials(p.ClientID, t.secret, p.Scopes, fallback)
		g.HTTPClient, g.Params, g.Now = t.HTTP, params, w.Now
		sess, err = g.Login(ctx)
	case profile.GrantAuthorizationCode:
		g := d.AuthorizationCode(p.ClientID, t.secret, p.Scopes, fallback)
		g.HTTPClient, g.Params, g.Now, g.Port = t.HTTP, params, w.Now, p.RedirectPort
		g.OpenBrowser = o.OpenBrowser
		if g.OpenBrowser == nil {
			g.OpenBrowser = w.OpenBrowser
		}
		sess, err = g.Login(ctx)
	case profile.GrantPassword:
		password := o.Password
		if password == "" && p.RememberPassword {
			password, _ = w.Secrets.Get(p.Name, profile.SecretPassword)
		}
		if password == "" {
			return nil, nil, errors.New("the password grant needs a password")
		}
		g := d.PasswordGrant(p.ClientID, t.secret, p.Username, password, p.Scopes, fallback)
		g.HTTPClient, g.Params, g.Now = t.HTTP, params, w.Now
		sess, err = g.Login(ctx)
		if err == nil && p.RememberPassword && o.Password != "" {
			saveErr = w.Secrets.Set(p.Name, profile.SecretPassword, o.Password)
		}
	default:
		return nil, nil, fmt.Errorf("unknown grant %q", p.Grant)
	}
	if err != nil {
		return nil, nil, err
	}
	if e := w.SaveSession(t, sess); e != nil && saveErr == nil {
		saveErr = e
	}
	return sess, saveErr, nil
}

// SaveSession stores the session's tokens in the keyring under the profile.
// Sessions on the built-in sandbox are not stored: its keys change with
// every start.
func (w *Workspace) SaveSession(t *Target, sess *auth.Session) error {
	if t.Profile.IsSandbox() || sess == nil {
		return nil
	}
	tok := sess.Current()
	info := sess.Info()
	return w.Secrets.SaveToken(t.Profile.Name, profile.Token{
		AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken,
		Expiry: tok.Expiry, Scope: strings.Join(info.Granted, " "), ScopeSource: string(info.ScopeSource),
		Obtained: info.ReceivedAt,
	})
}

// ErrNoSavedSession is returned by Restore when the keyring holds no usable
// session for the profile.
var ErrNoSavedSession = errors.New("no saved session")

// Restore rebuilds the session saved for the profile, one that renews like
// a fresh one. It makes no token request.
func (w *Workspace) Restore(ctx context.Context, t *Target) (*auth.Session, error) {
	p := t.Profile
	if t.Discovery == nil || p.IsSandbox() {
		return nil, ErrNoSavedSession
	}
	st, err := w.Secrets.LoadToken(p.Name)
	if err != nil {
		if errors.Is(err, profile.ErrNoSecret) {
			return nil, ErrNoSavedSession
		}
		return nil, err
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	if st.AccessToken == "" && st.RefreshToken == "" {
		return nil, ErrNoSavedSession
	}
	if st.RefreshToken == "" && !st.Expiry.IsZero() && !now().Before(st.Expiry) && p.Grant != profile.GrantClientCredentials {
		return nil, ErrNoSavedSession // expired, and nothing to renew it with
	}
	tok := &oauth2.Token{AccessToken: st.AccessToken, TokenType: st.TokenType, RefreshToken: st.RefreshToken, Expiry: st.Expiry}
	if st.ScopeSource == string(auth.ScopesFromResponse) && st.Scope != "" {
		tok = tok.WithExtra(map[string]any{"scope": st.Scope})
	}
	d := t.Discovery
	fallback := auth.ClientAuth(p.ClientAuth)
	params := auth.TokenParams(p.Audience)
	switch p.Grant {
	case profile.GrantClientCredentials:
		g := d.ClientCredentials(p.ClientID, t.secret, p.Scopes, fallback)
		g.HTTPClient, g.Params, g.Now = t.HTTP, params, w.Now
		return g.Resume(ctx, tok), nil
	case profile.GrantAuthorizationCode:
		g := d.AuthorizationCode(p.ClientID, t.secret, p.Scopes, fallback)
		g.HTTPClient, g.Params, g.Now = t.HTTP, params, w.Now
		return g.Resume(ctx, tok), nil
	case profile.GrantPassword:
		password := ""
		if p.RememberPassword {
			password, _ = w.Secrets.Get(p.Name, profile.SecretPassword)
		}
		g := d.PasswordGrant(p.ClientID, t.secret, p.Username, password, p.Scopes, fallback)
		g.HTTPClient, g.Params, g.Now = t.HTTP, params, w.Now
		return g.Resume(ctx, tok), nil
	}
	return nil, ErrNoSavedSession
}

// Logout revokes the session's tokens where the server offers revocation
// and forgets the saved session. The session is forgotten even when the
// revocation fails; the error says so.
func (w *Workspace) Logout(ctx context.Context, t *Target, sess *auth.Session) error {
	var err error
	if sess != nil {
		err = sess.Logout(ctx)
	}
	if !t.Profile.IsSandbox() {
		if e := w.Secrets.ForgetSession(t.Profile.Name); e != nil {
			err = errors.Join(err, e)
		}
	}
	return err
}

// FHIR returns a FHIR client for the target that sends the session's token
// (sess may be nil for a server without authorization).
func (t *Target) FHIR(sess *auth.Session) *fhirclient.Client {
	hc := t.HTTP
	if sess != nil {
		hc = sess.HTTPClient(t.HTTP)
	}
	return fhirclient.New(t.BaseURL, hc)
}

// Access predicts, under the target's policy, which of types the session's
// granted scopes may read.
func (t *Target) Access(sess *auth.Session, types []string) []auth.Access {
	var granted []string
	if sess != nil {
		granted, _ = sess.GrantedScopes()
	}
	return auth.CheckAccess(t.Policy, granted, types)
}

// ErrRedirectRefused is returned when a server redirects to another origin
// or from https to http: credentials must not follow.
var ErrRedirectRefused = errors.New("redirect refused")

// HTTPClient builds the HTTP client for a profile: TLS verification always
// on (there is no switch to turn it off), the system's CAs plus the
// profile's extra CA file, a refused certificate explained in plain words
// (see DescribeTLSError), sensible timeouts, and no redirect to another
// origin or from https to http (the Bearer token would follow it).
func HTTPClient(p profile.Profile) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	pool, err := p.CertPool() // nil without a CA file: the system's roots
	if err != nil {
		return nil, err
	}
	tr.TLSClientConfig.RootCAs = pool
	tr.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 15 * time.Second
	tr.ResponseHeaderTimeout = 60 * time.Second
	return &http.Client{Transport: explainTLS{tr}, CheckRedirect: checkRedirect}, nil
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return fmt.Errorf("%w: more than 5 redirects", ErrRedirectRefused)
	}
	first := via[0].URL
	if first.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("%w: the server redirected from https to %s", ErrRedirectRefused, req.URL.Scheme)
	}
	if !strings.EqualFold(first.Host, req.URL.Host) || first.Scheme != req.URL.Scheme {
		return fmt.Errorf("%w: the server redirected to another origin (%s://%s)", ErrRedirectRefused, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

// String describes the target without its client secret, so that printing
// one (with any verb; GoString for %#v) leaks nothing.
func (t Target) String() string {
	secret := "none"
	if t.secret != "" {
		secret = "[redacted]"
	}
	return fmt.Sprintf("connect.Target{Profile: %q, BaseURL: %q, Policy: %s, secret: %s}", t.Profile.Name, t.BaseURL, t.Policy, secret)
}

// GoString is String.
func (t Target) GoString() string { return t.String() }

// String describes the workspace (its folder, keyring and sandbox) without
// anything they hold, so that printing one leaks nothing.
func (w *Workspace) String() string {
	if w == nil {
		return "connect.Workspace(nil)"
	}
	dir := ""
	if w.Store != nil {
		dir = w.Store.Dir()
	}
	sb := "not started"
	if s := w.SandboxRunning(); s != nil {
		sb = s.FHIRBase()
	}
	return fmt.Sprintf("connect.Workspace{Dir: %q, Secrets: %v, sandbox: %s}", dir, w.Secrets, sb)
}

// GoString is String.
func (w *Workspace) GoString() string { return w.String() }
