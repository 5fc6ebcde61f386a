package sandbox

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"sync"
	"time"

	"github.com/ory/fosite"
)

// store is fosite's storage: clients, users, codes and tokens in memory behind one mutex.
// (fosite's own storage.MemoryStore updates a map under the wrong lock in RevokeRefreshToken.)
type store struct {
	mu       sync.Mutex
	now      func() time.Time
	clients  map[string]fosite.Client
	users    map[string]*demoUser
	codes    map[string]codeEntry
	access   map[string]fosite.Requester
	refresh  map[string]refreshEntry
	pkce     map[string]fosite.Requester
	accessBy map[string][]string // request id -> access token signatures
	refrBy   map[string][]string // request id -> refresh token signatures
	jtis     map[string]time.Time
	created  int
}

type codeEntry struct {
	req    fosite.Requester
	active bool
}

type refreshEntry struct {
	req    fosite.Requester
	active bool
}

func newStore(now func() time.Time) *store {
	return &store{
		now:      now,
		clients:  map[string]fosite.Client{},
		users:    map[string]*demoUser{},
		codes:    map[string]codeEntry{},
		access:   map[string]fosite.Requester{},
		refresh:  map[string]refreshEntry{},
		pkce:     map[string]fosite.Requester{},
		accessBy: map[string][]string{},
		refrBy:   map[string][]string{},
		jtis:     map[string]time.Time{},
	}
}

func (s *store) GetClient(_ context.Context, id string) (fosite.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, fosite.ErrNotFound
	}
	return c, nil
}

func (s *store) ClientAssertionJWTValid(_ context.Context, jti string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.jtis[jti]; ok && exp.After(time.Now()) {
		return fosite.ErrJTIKnown
	}
	return nil
}

func (s *store) SetClientAssertionJWT(_ context.Context, jti string, exp time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.jtis[jti]; ok {
		return fosite.ErrJTIKnown
	}
	s.jtis[jti] = exp
	return nil
}

func (s *store) CreateAuthorizeCodeSession(_ context.Context, code string, req fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = codeEntry{req: req, active: true}
	return nil
}

func (s *store) GetAuthorizeCodeSession(_ context.Context, code string, _ fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.codes[code]
	if !ok {
		return nil, fosite.ErrNotFound
	}
	if !e.active {
		return e.req, fosite.ErrInvalidatedAuthorizeCode
	}
	return e.req, nil
}

func (s *store) InvalidateAuthorizeCodeSession(_ context.Context, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.codes[code]
	if !ok {
		return fosite.ErrNotFound
	}
	e.active = false
	s.codes[code] = e
	return nil
}

func (s *store) CreatePKCERequestSession(_ context.Context, sig string, req fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pkce[sig] = req
	return nil
}

func (s *store) GetPKCERequestSession(_ context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.pkce[sig]
	if !ok {
		return nil, fosite.ErrNotFound
	}
	return r, nil
}

func (s *store) DeletePKCERequestSession(_ context.Context, sig string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pkce, sig)
	return nil
}

func (s *store) CreateAccessTokenSession(_ context.Context, sig string, req fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access[sig] = req
	s.accessBy[req.GetID()] = append(s.accessBy[req.GetID()], sig)
	s.created++
	if s.created%1024 == 0 {
		s.pruneLocked()
	}
	return nil
}

// pruneLocked forgets access tokens that expired more than an hour ago.
func (s *store) pruneLocked() {
	cutoff := s.now().Add(-time.Hour)
	for sig, req := range s.access {
		if exp := req.GetSession().GetExpiresAt(fosite.AccessToken); !exp.IsZero() && exp.Before(cutoff) {
			delete(s.access, sig)
		}
	}
	for id, sigs := range s.accessBy {
		kept := sigs[:0]
		for _, sig := range sigs {
			if _, ok := s.access[sig]; ok {
				kept = append(kept, sig)
			}
		}
		if len(kept) == 0 {
			delete(s.accessBy, id)
		} else {
			s.accessBy[id] = kept
		}
	}
}

func (s *store) GetAccessTokenSession(_ context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.access[sig]
	if !ok {
		return nil, fosite.ErrNotFound
	}
	return r, nil
}

// accessTokenActive reports whether an access token signature is still known (not revoked).
func (s *store) accessTokenActive(sig string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.access[sig]
	return ok
}

func (s *store) DeleteAccessTokenSession(_ context.Context, sig string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.access, sig)
	return nil
}

func (s *store) CreateRefreshTokenSession(_ context.Context, sig, _ string, req fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh[sig] = refreshEntry{req: req, active: true}
	s.refrBy[req.GetID()] = append(s.refrBy[req.GetID()], sig)
	return nil
}

func (s *store) GetRefreshTokenSession(_ context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.refresh[sig]
	if !ok {
		return nil, fosite.ErrNotFound
	}
	if !e.active {
		return e.req, fosite.ErrInactiveToken
	}
	return e.req, nil
}

func (s *store) DeleteRefreshTokenSession(_ context.Context, sig string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refresh, sig)
	return nil
}

// RotateRefreshToken deactivates the used refresh token and revokes the access tokens of its grant.
func (s *store) RotateRefreshToken(_ context.Context, requestID, sig string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.refresh[sig]; ok {
		e.active = false
		s.refresh[sig] = e
	}
	s.revokeAccessLocked(requestID)
	return nil
}

func (s *store) RevokeRefreshToken(_ context.Context, requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sig := range s.refrBy[requestID] {
		if e, ok := s.refresh[sig]; ok {
			e.active = false
			s.refresh[sig] = e
		}
	}
	return nil
}

func (s *store) RevokeAccessToken(_ context.Context, requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeAccessLocked(requestID)
	return nil
}

func (s *store) revokeAccessLocked(requestID string) {
	for _, sig := range s.accessBy[requestID] {
		delete(s.access, sig)
	}
	delete(s.accessBy, requestID)
}

// Authenticate checks a demo user's password for the password grant; the subject is the username.
func (s *store) Authenticate(_ context.Context, name, secret string) (string, error) {
	s.mu.Lock()
	u, ok := s.users[name]
	s.mu.Unlock()
	if !ok || !u.checkPassword(secret) {
		return "", fosite.ErrNotFound.WithDebug("invalid credentials")
	}
	return u.info.Username, nil
}

// secretHasher hashes demo client secrets with SHA-256; the secrets are public demo values, so a
// slow password hash would only slow the tests down.
type secretHasher struct{}

func (secretHasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	h := sha256.Sum256(data)
	return h[:], nil
}

var errSecretMismatch = errors.New("client secret does not match")

func (secretHasher) Compare(_ context.Context, hash, data []byte) error {
	h := sha256.Sum256(data)
	if subtle.ConstantTimeCompare(hash, h[:]) != 1 {
		return errSecretMismatch
	}
	return nil
}
