package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"
)

// PasswordGrantLabel is how the window and the command line name the
// password grant, so that nobody mistakes it for a recommended way to log in.
const PasswordGrantLabel = "Password (legacy: resource owner password credentials, for old servers only)"

// PasswordGrant describes a resource owner password credentials grant (RFC
// 6749 section 4.3). It is legacy: the OAuth 2.0 Security Best Current
// Practice forbids it, because the application sees the user's password. It
// exists for old servers that offer nothing else; prefer AuthorizationCode.
type PasswordGrant struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	Auth         ClientAuth
	Username     string
	Password     string
	Scopes       []string
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

// Login runs the password grant and returns a Session. The session renews
// with the refresh token when the server issued one, otherwise by repeating
// the grant (it keeps the password in memory for that).
func (p PasswordGrant) Login(ctx context.Context) (*Session, error) {
	tc := p.tokenClient()
	tok, err := tc.reask(ctx)
	if err != nil {
		return nil, fmt.Errorf("password grant token request: %w", err)
	}
	return newSession(ctx, tok, p.Scopes, p.Now, tc), nil
}

// Resume wraps a token saved from an earlier session in a Session that
// renews it like a fresh one (with the refresh token, or by asking again
// when the password is set).
func (p PasswordGrant) Resume(ctx context.Context, tok *oauth2.Token) *Session {
	tc := p.tokenClient()
	if p.Password == "" {
		tc.reask, tc.reaskLabel = nil, ""
	}
	return newSession(ctx, tok, p.Scopes, p.Now, tc)
}

func (p PasswordGrant) tokenClient() *tokenClient {
	tc := &tokenClient{
		tokenURL: p.TokenURL, clientID: p.ClientID, clientSecret: p.ClientSecret, auth: p.Auth,
		params: p.Params, httpClient: p.HTTPClient, revocationURL: p.RevocationURL, jwksURI: p.JWKSURI,
		reaskLabel: "by asking again (password grant)",
	}
	scopes := append([]string(nil), p.Scopes...)
	username, password := p.Username, p.Password
	tc.reask = func(ctx context.Context) (*oauth2.Token, error) {
		tok, err := bounded(ctx, func(ctx context.Context) (*oauth2.Token, error) {
			if len(tc.params) == 0 {
				return tc.config(scopes).PasswordCredentialsToken(tc.context(ctx), username, password)
			}
			form := cloneValues(tc.params)
			form.Set("grant_type", "password")
			form.Set("username", username)
			form.Set("password", password)
			return tc.withParams(ctx, form, scopes)
		})
		if err != nil {
			return nil, describeTokenError(err, tc.clientSecret, password)
		}
		return tok, nil
	}
	return tc
}
