package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"slices"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/jwt"
)

func quietLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// accessTokenStrategy issues RFC 9068 JWT access tokens stamped with the sandbox's clock and
// validates them with it (fosite's own JWT strategy reads the wall clock).
type accessTokenStrategy struct {
	*oauth2.DefaultJWTStrategy
	s *Server
}

func (t *accessTokenStrategy) GenerateAccessToken(ctx context.Context, req fosite.Requester) (string, string, error) {
	sess, ok := req.GetSession().(*oauth2.JWTSession)
	if !ok {
		return "", "", fmt.Errorf("session type %T: %w", req.GetSession(), fosite.ErrServerError)
	}
	now := t.s.now().UTC().Truncate(time.Second)
	sess.SetExpiresAt(fosite.AccessToken, now.Add(t.s.cfg.TokenTTL))
	claims := sess.GetJWTClaims().(*jwt.JWTClaims)
	claims.IssuedAt = now
	claims.Issuer = t.s.issuer
	claims.JTI = ""
	if sess.Subject == "" {
		sess.Subject = req.GetClient().GetID()
	}
	claims.Subject = sess.Subject
	claims.Extra = map[string]any{"client_id": req.GetClient().GetID()}
	sess.GetJWTHeader().Add("kid", t.s.key.kid)
	sess.GetJWTHeader().Add("typ", "at+jwt") // RFC 9068
	return t.DefaultJWTStrategy.GenerateAccessToken(ctx, req)
}

func (t *accessTokenStrategy) ValidateAccessToken(_ context.Context, _ fosite.Requester, token string) error {
	if _, _, err := t.s.verifyAccessToken(token); err != nil {
		if errors.Is(err, errTokenExpired) {
			return fosite.ErrTokenExpired.WithWrap(err)
		}
		return fosite.ErrTokenSignatureMismatch.WithWrap(err)
	}
	return nil
}

// verifyAccessToken checks signature, issuer, audience, expiry (on the sandbox clock) and revocation.
// The signature check and claim decoding of a token that passed every check are cached on the
// key (s.key.verified); the other checks run on every call, cached or not.
func (s *Server) verifyAccessToken(token string) (*tokenClaims, string, error) {
	c, sig, cached := s.key.verified.get(token)
	if !cached {
		var err error
		if c, sig, err = s.key.verify(token); err != nil {
			return nil, "", err
		}
	}
	if c.Issuer != s.issuer || !slices.Contains(c.Audience, s.fhirBase) {
		return nil, "", errTokenClaims
	}
	if c.Expiry == 0 || s.now().Unix() >= c.Expiry {
		if cached {
			s.key.verified.remove(token)
		}
		return nil, "", errTokenExpired
	}
	if !s.store.accessTokenActive(sig) {
		if cached {
			s.key.verified.remove(token)
		}
		return nil, "", errTokenRevoked
	}
	if !cached {
		s.key.verified.add(token, c, sig)
	}
	return c, sig, nil
}

func newSession(subject string) *oauth2.JWTSession {
	return &oauth2.JWTSession{
		JWTClaims: &jwt.JWTClaims{Subject: subject},
		JWTHeader: &jwt.Headers{Extra: map[string]any{}},
		Subject:   subject,
		Username:  subject,
	}
}

func (s *Server) initOAuth() error {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("sandbox global secret: %w", err)
	}
	s.store = newStore(s.now)
	for _, c := range s.clients {
		s.store.clients[c.ClientID] = fositeClient(c, s.fhirBase)
	}
	for _, u := range s.users {
		s.store.users[u.Username] = &demoUser{info: u}
	}
	cfg := &fosite.Config{
		AccessTokenLifespan:            s.cfg.TokenTTL,
		RefreshTokenLifespan:           7 * 24 * time.Hour,
		AuthorizeCodeLifespan:          10 * time.Minute,
		AccessTokenIssuer:              s.issuer,
		IDTokenIssuer:                  s.issuer,
		TokenURL:                       s.issuer + "/oauth/token",
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:       fosite.DefaultAudienceMatchingStrategy,
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		JWTScopeClaimKey:               jwt.JWTScopeFieldString,
		GlobalSecret:                   secret,
		ClientSecretsHasher:            secretHasher{},
		RefreshTokenScopes:             []string{"offline_access", "offline"},
	}
	keyGetter := func(context.Context) (any, error) { return s.key.priv, nil }
	strategy := &accessTokenStrategy{
		DefaultJWTStrategy: compose.NewOAuth2JWTStrategy(keyGetter, compose.NewOAuth2HMACStrategy(cfg), cfg),
		s:                  s,
	}
	s.provider = compose.Compose(cfg, s.store, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		//lint:ignore SA1019 the password grant for one legacy client is a requirement (the CCRI offered it)
		compose.OAuth2ResourceOwnerPasswordCredentialsFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2PKCEFactory,
	)
	return nil
}

func (s *Server) routeOAuth(mux *http.ServeMux) {
	noStore := func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Pragma", "no-cache")
			h(w, r)
		})
	}
	mux.Handle("POST "+issuerPath+"/oauth/token", noStore(s.handleToken))
	mux.Handle("GET "+issuerPath+"/oauth/authorize", noStore(s.handleAuthorize))
	mux.Handle("POST "+issuerPath+"/oauth/authorize", noStore(s.handleAuthorize))
	mux.Handle("GET "+issuerPath+"/login", noStore(s.handleLogin))
	mux.Handle("POST "+issuerPath+"/login", noStore(s.handleLogin))
	mux.Handle("POST "+issuerPath+"/oauth/revoke", noStore(s.handleRevoke))
	mux.Handle("POST "+issuerPath+"/oauth/introspect", noStore(s.handleIntrospect))
	mux.HandleFunc("GET "+issuerPath+"/jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.key.jwks())
	})
	if !s.cfg.NoWellKnown {
		mux.HandleFunc("GET "+issuerPath+"/.well-known/openid-configuration", s.handleASMetadata)
		mux.HandleFunc("GET /.well-known/oauth-authorization-server"+issuerPath, s.handleASMetadata)
		mux.HandleFunc("GET "+fhirPath+"/.well-known/smart-configuration", s.handleSMARTConfiguration)
	}
	mux.HandleFunc(issuerPath+"/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found",
			"error_description": "no such endpoint on the sandbox authorization server: " + r.Method + " " + r.URL.Path})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// handleToken serves the token endpoint for every grant.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess := newSession("")
	ar, err := s.provider.NewAccessRequest(ctx, r, sess)
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	client := ar.GetClient()
	switch {
	case ar.GetGrantTypes().ExactOne("client_credentials"):
		// Like the CCRI's server: no scope parameter means every scope of the client.
		scopes := ar.GetRequestedScopes()
		if len(scopes) == 0 {
			scopes = client.GetScopes()
		}
		for _, sc := range scopes {
			ar.GrantScope(sc)
		}
		ar.GrantAudience(s.fhirBase)
		sess.Subject = client.GetID()
	case ar.GetGrantTypes().ExactOne("password"):
		username := ar.GetRequestForm().Get("username")
		user := s.store.users[username]
		if user == nil { // the grant handler authenticated the user, so this cannot happen
			s.provider.WriteAccessError(ctx, w, ar, fosite.ErrInvalidGrant)
			return
		}
		scopes := ar.GetRequestedScopes()
		if len(scopes) == 0 {
			scopes = user.defaultScopes(client.GetScopes())
		}
		for _, sc := range scopes {
			if !user.mayHave(sc) {
				s.provider.WriteAccessError(ctx, w, ar, fosite.ErrInvalidScope.WithHintf("User '%s' may not be granted scope '%s'.", username, sc))
				return
			}
			ar.GrantScope(sc)
		}
		ar.GrantAudience(s.fhirBase)
		sess.Subject, sess.Username = username, username
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	resp.SetExpiresIn(s.cfg.TokenTTL)
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := s.provider.NewRevocationRequest(ctx, r)
	s.provider.WriteRevocationResponse(ctx, w, err)
}

func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ir, err := s.provider.NewIntrospectionRequest(ctx, r, newSession(""))
	if err != nil {
		s.provider.WriteIntrospectionError(ctx, w, err)
		return
	}
	s.provider.WriteIntrospectionResponse(ctx, w, ir)
}

// handleASMetadata serves RFC 8414 / OpenID discovery metadata.
func (s *Server) handleASMetadata(w http.ResponseWriter, _ *http.Request) {
	info := s.Info()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                        info.Issuer,
		"authorization_endpoint":                        info.AuthorizeEndpoint,
		"token_endpoint":                                info.TokenEndpoint,
		"jwks_uri":                                      info.JWKSURI,
		"revocation_endpoint":                           info.RevocationEndpoint,
		"introspection_endpoint":                        info.IntrospectionEndpoint,
		"scopes_supported":                              s.allScopes(),
		"response_types_supported":                      []string{"code"},
		"response_modes_supported":                      []string{"query"},
		"grant_types_supported":                         []string{"authorization_code", "client_credentials", "refresh_token", "password"},
		"token_endpoint_auth_methods_supported":         []string{"client_secret_basic", "client_secret_post", "none"},
		"revocation_endpoint_auth_methods_supported":    []string{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":              []string{"S256"},
		"subject_types_supported":                       []string{"public"},
	})
}

// handleSMARTConfiguration serves the SMART App Launch discovery document.
func (s *Server) handleSMARTConfiguration(w http.ResponseWriter, _ *http.Request) {
	info := s.Info()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                info.Issuer,
		"jwks_uri":                              info.JWKSURI,
		"authorization_endpoint":                info.AuthorizeEndpoint,
		"token_endpoint":                        info.TokenEndpoint,
		"revocation_endpoint":                   info.RevocationEndpoint,
		"introspection_endpoint":                info.IntrospectionEndpoint,
		"grant_types_supported":                 []string{"authorization_code", "client_credentials", "refresh_token", "password"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"scopes_supported":                      s.allScopes(),
		"response_types_supported":              []string{"code"},
		"code_challenge_methods_supported":      []string{"S256"},
		"capabilities": []string{"client-public", "client-confidential-symmetric", "permission-offline",
			"permission-user", "permission-patient", "permission-v1", "permission-v2"},
	})
}

// allScopes lists every scope any demo client has.
func (s *Server) allScopes() []string {
	var out []string
	for _, c := range s.clients {
		for _, sc := range c.Scopes {
			if !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	slices.Sort(out)
	return out
}
