package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// DefaultLoginTimeout bounds a browser log-in when AuthorizationCode.Timeout
// is zero.
const DefaultLoginTimeout = 5 * time.Minute

// CallbackPath is the loopback redirect URI's path.
const CallbackPath = "/callback"

// AuthorizationCode describes an authorization code grant with PKCE (S256)
// through the system browser and a loopback redirect (RFC 8252): a listener
// on 127.0.0.1 receives the redirect at /callback.
type AuthorizationCode struct {
	AuthURL      string
	TokenURL     string
	ClientID     string
	ClientSecret string // empty for a public client
	Auth         ClientAuth
	Scopes       []string
	// Params are extra parameters for the authorization request and the
	// code exchange (see TokenParams), such as aud or resource.
	Params url.Values

	// Port pins the loopback port, for servers that register an exact
	// redirect URI; 0 picks a free port.
	Port int
	// Issuer is the authorization server's issuer. When set, an
	// authorization response carrying a different iss is rejected; when
	// RequireIssuer is also set (the server advertises
	// authorization_response_iss_parameter_supported), a response without
	// iss is rejected too (RFC 9207).
	Issuer        string
	RequireIssuer bool

	// OpenBrowser shows the user the authorization URL; nil means
	// OpenSystemBrowser. Tests pass a function that starts a goroutine
	// playing the browser. It must not block until the log-in ends.
	OpenBrowser func(ctx context.Context, authURL string) error
	// Timeout bounds the whole log-in; 0 means DefaultLoginTimeout.
	Timeout time.Duration
	// AppName names the application on the page the browser shows at the
	// end; "" means "Care Connect Explorer".
	AppName string

	// HTTPClient makes the token requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// RevocationURL, optional, is used by Session.Logout (RFC 7009).
	RevocationURL string
	// JWKSURI, optional, is used to verify JWT access tokens.
	JWKSURI string
	// Now is the clock the Session uses; nil means time.Now.
	Now Clock
}

// Login runs the flow: it binds the loopback listener, opens the browser at
// the authorization URL, waits for exactly one redirect carrying the right
// state, exchanges the code (with the PKCE verifier) and returns a Session
// that renews with the refresh token when there is one. It returns an error
// wrapping ErrCancelled when ctx is cancelled, ErrTimedOut after the
// timeout, and *AuthorizationError when the server answered with an error
// such as access_denied.
func (a AuthorizationCode) Login(ctx context.Context) (*Session, error) {
	if a.AuthURL == "" || a.TokenURL == "" || a.ClientID == "" {
		return nil, errors.New("authorization code log-in: the authorization endpoint, token endpoint and client ID are all needed")
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = DefaultLoginTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	state, err := randomString(32)
	if err != nil {
		return nil, fmt.Errorf("authorization code log-in: %w", err)
	}
	verifier := oauth2.GenerateVerifier()

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port)))
	if err != nil {
		return nil, fmt.Errorf("open the loopback listener on 127.0.0.1:%d: %w", a.Port, err)
	}
	redirect := fmt.Sprintf("http://127.0.0.1:%d%s", ln.Addr().(*net.TCPAddr).Port, CallbackPath)

	tc := a.tokenClient(redirect)
	cfg := tc.config(a.Scopes)
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	for k, vs := range a.Params {
		for _, v := range vs {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	authURL := cfg.AuthCodeURL(state, opts...)

	lb := newLoopback(ln, state, a.Issuer, a.RequireIssuer, a.AppName)
	defer lb.close()

	open := a.OpenBrowser
	if open == nil {
		open = OpenSystemBrowser
	}
	if err := open(ctx, authURL); err != nil {
		return nil, fmt.Errorf("open the browser: %w", err)
	}

	var res callbackResult
	select {
	case res = <-lb.result:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the browser: %w", contextError(ctx.Err()))
	}
	lb.close()
	if res.err != nil {
		return nil, res.err
	}

	exchange := []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
	for k, vs := range a.Params {
		if len(vs) == 1 {
			exchange = append(exchange, oauth2.SetAuthURLParam(k, vs[0]))
		}
		// x/oauth2 sets one value per parameter; repeated values (several
		// resource indicators) go on the authorization request only.
	}
	tok, err := bounded(ctx, func(ctx context.Context) (*oauth2.Token, error) {
		return cfg.Exchange(tc.context(ctx), res.code, exchange...)
	})
	if err != nil {
		return nil, fmt.Errorf("exchange code: %w", describeTokenError(err, a.ClientSecret, res.code, verifier))
	}
	return newSession(ctx, tok, a.Scopes, a.Now, tc), nil
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Resume wraps a token saved from an earlier session in a Session that
// renews it with its refresh token, when it has one; otherwise renewal needs
// the browser again and the session says so.
func (a AuthorizationCode) Resume(ctx context.Context, tok *oauth2.Token) *Session {
	return newSession(ctx, tok, a.Scopes, a.Now, a.tokenClient(""))
}

func (a AuthorizationCode) tokenClient(redirect string) *tokenClient {
	return &tokenClient{
		tokenURL: a.TokenURL, authURL: a.AuthURL, redirectURL: redirect,
		clientID: a.ClientID, clientSecret: a.ClientSecret, auth: a.Auth, params: a.Params,
		httpClient: a.HTTPClient, revocationURL: a.RevocationURL, jwksURI: a.JWKSURI,
	}
}
