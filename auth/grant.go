package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ClientAuth says how a confidential client authenticates at the token
// endpoint.
type ClientAuth string

// The client authentication methods of RFC 6749 section 2.3.1. The empty
// ClientAuth lets x/oauth2 try Basic first and then the body.
const (
	ClientAuthBasic ClientAuth = "basic" // client_secret_basic
	ClientAuthBody  ClientAuth = "body"  // client_secret_post
)

// ChooseClientAuth picks the client authentication method from a server's
// token_endpoint_auth_methods_supported: the only one of client_secret_basic
// and client_secret_post it states, or fallback (the profile's setting) when
// it states both or neither; Basic when both are stated and fallback is
// empty.
func ChooseClientAuth(supported []string, fallback ClientAuth) ClientAuth {
	basic := slices.Contains(supported, "client_secret_basic")
	post := slices.Contains(supported, "client_secret_post")
	switch {
	case basic && post:
		if fallback != "" {
			return fallback
		}
		return ClientAuthBasic
	case basic:
		return ClientAuthBasic
	case post:
		return ClientAuthBody
	}
	return fallback
}

func authStyle(a ClientAuth, secret string) oauth2.AuthStyle {
	if secret == "" {
		// A public client identifies itself with client_id in the body.
		return oauth2.AuthStyleInParams
	}
	switch a {
	case ClientAuthBasic:
		return oauth2.AuthStyleInHeader
	case ClientAuthBody:
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleAutoDetect
}

// TokenParams builds the extra token-request parameters some servers
// require: aud (an audience) and resource (RFC 8707, one per resource).
// Empty values are left out.
func TokenParams(audience string, resources ...string) url.Values {
	v := url.Values{}
	if audience != "" {
		v.Set("aud", audience)
	}
	for _, r := range resources {
		if r != "" {
			v.Add("resource", r)
		}
	}
	return v
}

// ClientCredentials describes a client credentials grant.
type ClientCredentials struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scopes       []string
	Auth         ClientAuth
	// Params are extra token-request parameters (see TokenParams).
	Params url.Values
	// HTTPClient makes every request; nil means http.DefaultClient.
	HTTPClient *http.Client
	// RevocationURL, optional, is used by Session.Logout (RFC 7009).
	RevocationURL string
	// JWKSURI, optional, is used to verify JWT access tokens.
	JWKSURI string
	// Now is the clock the Session uses; nil means time.Now.
	Now Clock
}

// Login runs the client credentials grant and returns a Session that renews
// the token by asking again shortly before it expires.
func (c ClientCredentials) Login(ctx context.Context) (*Session, error) {
	tc := c.tokenClient()
	tok, err := tc.reask(ctx)
	if err != nil {
		return nil, fmt.Errorf("client credentials token request: %w", err)
	}
	return newSession(ctx, tok, c.Scopes, c.Now, tc), nil
}

// Resume wraps a token saved from an earlier session (with its Expiry set)
// in a Session that renews it like a fresh one. It makes no request but the
// JWKS fetch, bounded by ctx.
func (c ClientCredentials) Resume(ctx context.Context, tok *oauth2.Token) *Session {
	return newSession(ctx, tok, c.Scopes, c.Now, c.tokenClient())
}

func (c ClientCredentials) tokenClient() *tokenClient {
	tc := &tokenClient{
		tokenURL: c.TokenURL, clientID: c.ClientID, clientSecret: c.ClientSecret, auth: c.Auth,
		params: c.Params, httpClient: c.HTTPClient, revocationURL: c.RevocationURL, jwksURI: c.JWKSURI,
		reaskLabel: "by asking again (client credentials)",
	}
	cfg := clientcredentials.Config{
		ClientID:       c.ClientID,
		ClientSecret:   c.ClientSecret,
		TokenURL:       c.TokenURL,
		Scopes:         c.Scopes,
		EndpointParams: cloneValues(c.Params),
		AuthStyle:      authStyle(c.Auth, c.ClientSecret),
	}
	tc.reask = func(ctx context.Context) (*oauth2.Token, error) {
		tok, err := bounded(ctx, func(ctx context.Context) (*oauth2.Token, error) { return cfg.Token(tc.context(ctx)) })
		if err != nil {
			return nil, describeTokenError(err, c.ClientSecret)
		}
		return tok, nil
	}
	return tc
}

// tokenClient is what a Session needs to renew and revoke its token: the
// client, its endpoints and, for grants that can simply be repeated, how to
// ask again.
type tokenClient struct {
	tokenURL, authURL, redirectURL string
	clientID, clientSecret         string
	auth                           ClientAuth
	params                         url.Values
	httpClient                     *http.Client
	revocationURL                  string
	jwksURI                        string

	// reask obtains a new token by repeating the grant; nil when the grant
	// needs the user (authorization code).
	reask      func(ctx context.Context) (*oauth2.Token, error)
	reaskLabel string
}

// context hands the caller's HTTP client to x/oauth2.
func (c *tokenClient) context(ctx context.Context) context.Context {
	if c.httpClient != nil {
		return context.WithValue(ctx, oauth2.HTTPClient, c.httpClient)
	}
	return ctx
}

func (c *tokenClient) config(scopes []string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.clientID,
		ClientSecret: c.clientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   c.authURL,
			TokenURL:  c.tokenURL,
			AuthStyle: authStyle(c.auth, c.clientSecret),
		},
		RedirectURL: c.redirectURL,
		Scopes:      scopes,
	}
}

// withParams makes a token request of any grant type carrying the extra
// parameters, through clientcredentials.Config, whose EndpointParams may
// override grant_type. It is used where x/oauth2's own call for the grant
// (refresh, password) has no way to add parameters.
func (c *tokenClient) withParams(ctx context.Context, form url.Values, scopes []string) (*oauth2.Token, error) {
	cfg := clientcredentials.Config{
		ClientID:       c.clientID,
		ClientSecret:   c.clientSecret,
		TokenURL:       c.tokenURL,
		Scopes:         scopes,
		EndpointParams: form,
		AuthStyle:      authStyle(c.auth, c.clientSecret),
	}
	return cfg.Token(c.context(ctx))
}

// refresh uses a refresh token (RFC 6749 section 6).
func (c *tokenClient) refresh(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	tok, err := bounded(ctx, func(ctx context.Context) (*oauth2.Token, error) {
		if len(c.params) == 0 {
			return c.config(nil).TokenSource(c.context(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
		}
		form := cloneValues(c.params)
		form.Set("grant_type", "refresh_token")
		form.Set("refresh_token", refreshToken)
		return c.withParams(ctx, form, nil)
	})
	if err != nil {
		return nil, describeTokenError(err, c.clientSecret, refreshToken)
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = refreshToken
	}
	return tok, nil
}

func (c *tokenClient) revocation() Revocation {
	return Revocation{
		Endpoint: c.revocationURL, ClientID: c.clientID, ClientSecret: c.clientSecret,
		Auth: c.auth, HTTPClient: c.httpClient,
	}
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vv := range v {
		out[k] = slices.Clone(vv)
	}
	return out
}
