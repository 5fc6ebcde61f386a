package auth

import (
	"fmt"
	"strings"
	"time"
)

// The types below hold secrets (a client secret, a password, tokens). Their
// String and GoString methods describe them without the secrets, so that
// printing one with any verb (%v, %+v, %s, %#v) — in a log line, an error
// or a crash report — leaks nothing.

// hidden stands in for a secret value.
func hidden(v string) string {
	if v == "" {
		return `""`
	}
	return "[redacted]"
}

// String describes the grant without its client secret.
func (c ClientCredentials) String() string {
	return fmt.Sprintf("auth.ClientCredentials{TokenURL: %q, ClientID: %q, ClientSecret: %s, Scopes: %q, Auth: %q}",
		c.TokenURL, c.ClientID, hidden(c.ClientSecret), c.Scopes, c.Auth)
}

// GoString is String.
func (c ClientCredentials) GoString() string { return c.String() }

// String describes the grant without its client secret and password.
func (p PasswordGrant) String() string {
	return fmt.Sprintf("auth.PasswordGrant{TokenURL: %q, ClientID: %q, ClientSecret: %s, Username: %q, Password: %s, Scopes: %q, Auth: %q}",
		p.TokenURL, p.ClientID, hidden(p.ClientSecret), p.Username, hidden(p.Password), p.Scopes, p.Auth)
}

// GoString is String.
func (p PasswordGrant) GoString() string { return p.String() }

// String describes the grant without its client secret.
func (a AuthorizationCode) String() string {
	return fmt.Sprintf("auth.AuthorizationCode{AuthURL: %q, TokenURL: %q, ClientID: %q, ClientSecret: %s, Scopes: %q, Auth: %q, Port: %d}",
		a.AuthURL, a.TokenURL, a.ClientID, hidden(a.ClientSecret), a.Scopes, a.Auth, a.Port)
}

// GoString is String.
func (a AuthorizationCode) GoString() string { return a.String() }

// String describes the revocation endpoint without the client secret.
func (r Revocation) String() string {
	return fmt.Sprintf("auth.Revocation{Endpoint: %q, ClientID: %q, ClientSecret: %s, Auth: %q}",
		r.Endpoint, r.ClientID, hidden(r.ClientSecret), r.Auth)
}

// GoString is String.
func (r Revocation) GoString() string { return r.String() }

// String describes the session without its tokens: the token type, expiry
// and granted scopes.
func (s *Session) String() string {
	if s == nil {
		return "auth.Session(nil)"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	typ := "no"
	if s.tok != nil {
		typ = s.tok.Type()
	}
	exp := "no known expiry"
	if !s.expiry.IsZero() {
		exp = "expires " + s.expiry.UTC().Format(time.RFC3339)
	}
	state := ""
	if s.loggedOut {
		state = ", logged out"
	}
	return fmt.Sprintf("auth.Session{%s token, %s, scopes %q (%s)%s}", typ, exp, strings.Join(s.granted, " "), s.source, state)
}

// GoString is String.
func (s *Session) GoString() string { return s.String() }
