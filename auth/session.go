package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// ScopeSource says where a Session learnt its granted scopes from.
type ScopeSource string

// The places granted scopes can come from, best first.
const (
	// ScopesFromResponse: the token response's "scope" member.
	ScopesFromResponse ScopeSource = "response"
	// ScopesFromClaim: the access token's "scope" or "scp" claim.
	ScopesFromClaim ScopeSource = "claim"
	// ScopesRequested: the server said nothing, so the requested scopes are assumed.
	ScopesRequested ScopeSource = "requested"
)

// ExpirySource says where a Session learnt when its token expires.
type ExpirySource string

// The places the expiry can come from, best first.
const (
	ExpiryFromResponse ExpirySource = "expires_in" // the token response
	ExpiryFromToken    ExpirySource = "token"      // the oauth2.Token given to NewSession
	ExpiryFromClaim    ExpirySource = "jwt exp"    // the access token's exp claim
	ExpiryUnknown      ExpirySource = "unknown"
)

// MaxExpiryDisagreement is how far expires_in and the JWT's exp may differ
// before TokenInfo.ExpiryDisagrees flags it.
const MaxExpiryDisagreement = 60 * time.Second

// Clock returns the current time; tests inject a fixed one.
type Clock func() time.Time

// EventKind is the kind of a session Event.
type EventKind int

// The events a Session emits.
const (
	EventRenewed       EventKind = iota + 1 // a new token replaced the old one
	EventExpiringSoon                       // the token expires soon and will not be renewed
	EventExpired                            // the token has expired
	EventRenewalFailed                      // renewing failed; Event.Err says why
	EventLoggedOut                          // Logout ran
)

// String names the kind in words.
func (k EventKind) String() string {
	switch k {
	case EventRenewed:
		return "renewed"
	case EventExpiringSoon:
		return "expiring soon"
	case EventExpired:
		return "expired"
	case EventRenewalFailed:
		return "renewal failed"
	case EventLoggedOut:
		return "logged out"
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

// Event is something about the session the UI should show. Message is a
// plain-words sentence; Err is set for EventRenewalFailed.
type Event struct {
	Kind      EventKind
	At        time.Time // the session clock's time
	ExpiresAt time.Time // the (new) token's expiry; zero when unknown
	Message   string
	Err       error
}

// TokenInfo is a snapshot of what a Session knows about its token, for
// display. It holds no secret: not the access or refresh token.
type TokenInfo struct {
	TokenType string

	Granted     []string
	ScopeSource ScopeSource
	Requested   []string

	ReceivedAt   time.Time
	ExpiresAt    time.Time // zero when unknown
	ExpirySource ExpirySource
	// JWTExpiry is the access token's exp claim, when it is a JWT with one.
	JWTExpiry time.Time
	// ExpiryDisagreement is how far expires_in and exp differ;
	// ExpiryDisagrees is true when that is over MaxExpiryDisagreement.
	ExpiryDisagreement time.Duration
	ExpiryDisagrees    bool

	// JWT is the decoded access token (nil when opaque); its Label says
	// whether the signature was verified. Treat its maps as read-only.
	JWT *DecodedJWT

	HasRefreshToken bool
	// Renewal says how the session renews the token, or why it cannot.
	Renewal   string
	CanRenew  bool
	AutoRenew bool
	Renewals  int
	CanRevoke bool
}

// Session holds the current token and what is known about it: the granted
// scopes and where they came from, the expiry, the decoded JWT. It renews
// the token when driven by Tick or Run, and tells subscribers what happens.
// It is safe for concurrent use.
type Session struct {
	mu           sync.Mutex
	tok          *oauth2.Token
	receivedAt   time.Time
	expiry       time.Time
	expirySource ExpirySource
	jwtExpiry    time.Time
	jwt          *DecodedJWT
	granted      []string
	source       ScopeSource
	requested    []string
	now          Clock

	client      *tokenClient
	jwks        *JWKS
	autoRenew   bool
	renewBefore time.Duration
	warnBefore  time.Duration
	retryAfter  time.Duration
	renewals    int
	warned      bool
	expiredSent bool
	retryAt     time.Time
	loggedOut   bool

	renewMu sync.Mutex // one renewal at a time

	subMu   sync.Mutex
	subs    map[int]func(Event)
	nextSub int
}

// NewSession wraps a token freshly obtained for the requested scopes. A nil
// clock means time.Now. Such a session cannot renew its token (the grants'
// Login methods make sessions that can).
func NewSession(tok *oauth2.Token, requested []string, now Clock) *Session {
	return newSession(context.Background(), tok, requested, now, nil)
}

// newSession wraps a token from a grant. ctx bounds the JWKS fetch when the
// client names one.
func newSession(ctx context.Context, tok *oauth2.Token, requested []string, now Clock, client *tokenClient) *Session {
	if now == nil {
		now = time.Now
	}
	s := &Session{
		requested:   append([]string(nil), requested...),
		now:         now,
		client:      client,
		autoRenew:   true,
		renewBefore: 60 * time.Second,
		warnBefore:  2 * time.Minute,
		retryAfter:  30 * time.Second,
		subs:        map[int]func(Event){},
	}
	d := s.verify(ctx, tok)
	s.set(tok, now(), d, requested, "")
	return s
}

// set installs tok (with s.mu held or before s is shared). prevGranted and
// prevSource are what the previous token granted: a renewed token whose
// response and claims are silent on scope keeps them (RFC 6749 section 5.1).
func (s *Session) set(tok *oauth2.Token, at time.Time, jwt *DecodedJWT, prevGranted []string, prevSource ScopeSource) {
	if tok == nil {
		tok = &oauth2.Token{}
	}
	t := *tok
	s.receivedAt = at
	s.jwt = jwt
	s.jwtExpiry = time.Time{}
	if jwt != nil {
		if exp, ok := jwt.NumericDate("exp"); ok {
			s.jwtExpiry = exp
		}
	}
	switch in, ok := expiresIn(tok); {
	case ok:
		s.expiry, s.expirySource = at.Add(in), ExpiryFromResponse
	case !tok.Expiry.IsZero():
		s.expiry, s.expirySource = tok.Expiry, ExpiryFromToken
	case !s.jwtExpiry.IsZero():
		s.expiry, s.expirySource = s.jwtExpiry, ExpiryFromClaim
	default:
		s.expiry, s.expirySource = time.Time{}, ExpiryUnknown
	}
	t.Expiry = s.expiry
	s.tok = &t
	s.granted, s.source = GrantedScopes(tok, s.requested)
	if s.source == ScopesRequested && prevSource != "" && prevSource != ScopesRequested {
		s.granted, s.source = append([]string(nil), prevGranted...), prevSource
	}
	s.warned, s.expiredSent, s.retryAt = false, false, time.Time{}
}

// expiresIn reads expires_in from the token response.
func expiresIn(tok *oauth2.Token) (time.Duration, bool) {
	if tok.ExpiresIn > 0 {
		return time.Duration(tok.ExpiresIn) * time.Second, true
	}
	var secs float64
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		secs = v
	case json.Number:
		secs, _ = v.Float64()
	case string:
		secs, _ = strconv.ParseFloat(v, 64)
	}
	if secs > 0 && secs < 1<<31 {
		return time.Duration(secs * float64(time.Second)), true
	}
	return 0, false
}

// verify decodes tok's access token and, when the client names a JWKS,
// checks its signature, fetching the key set when needed (again once if the
// key is unknown: the server may have rotated its keys). It returns nil for
// opaque tokens.
func (s *Session) verify(ctx context.Context, tok *oauth2.Token) *DecodedJWT {
	if tok == nil {
		return nil
	}
	d, err := DecodeJWT(tok.AccessToken)
	if err != nil {
		return nil
	}
	if s.client == nil || s.client.jwksURI == "" {
		return d
	}
	s.mu.Lock()
	keys := s.jwks
	s.mu.Unlock()
	for attempt := 0; attempt < 2; attempt++ {
		if keys == nil || attempt == 1 {
			k, err := FetchJWKS(ctx, s.client.httpClient, s.client.jwksURI)
			if err != nil {
				d.Verification = err.Error()
				return d
			}
			keys = k
			s.mu.Lock()
			s.jwks = k
			s.mu.Unlock()
		}
		v, err := VerifyJWT(tok.AccessToken, keys)
		if err == nil {
			return v
		}
		d.Verification = strings.TrimPrefix(err.Error(), "verify JWT: ")
		if !errors.Is(err, errUnknownKey) {
			return d
		}
	}
	return d
}

// Current returns the current token. Its Expiry is the session's idea of the
// expiry (from expires_in on the session's clock).
func (s *Session) Current() *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok
}

// Token implements oauth2.TokenSource: it returns the current token, or
// ErrExpired once the token's expiry has passed, or ErrLoggedOut. It never
// makes a network call; renewal happens in Tick, Run and Renew.
func (s *Session) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loggedOut {
		return nil, ErrLoggedOut
	}
	if !s.expiry.IsZero() && !s.now().Before(s.expiry) {
		return nil, ErrExpired
	}
	return s.tok, nil
}

// GrantedScopes returns the scopes the token grants and where that was learnt.
func (s *Session) GrantedScopes() ([]string, ScopeSource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.granted...), s.source
}

// ExpiresAt returns when the access token expires; the zero time means the
// server did not say.
func (s *Session) ExpiresAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expiry
}

// TimeLeft returns how long the access token still lives, never negative. It
// returns -1 when the expiry is unknown. The UI may call it every second.
func (s *Session) TimeLeft() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.expiry.IsZero() {
		return -1
	}
	return max(s.expiry.Sub(s.now()), 0)
}

// Info returns a snapshot of what the session knows about its token.
func (s *Session) Info() TokenInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := TokenInfo{
		TokenType:       s.tok.Type(),
		Granted:         append([]string(nil), s.granted...),
		ScopeSource:     s.source,
		Requested:       append([]string(nil), s.requested...),
		ReceivedAt:      s.receivedAt,
		ExpiresAt:       s.expiry,
		ExpirySource:    s.expirySource,
		JWTExpiry:       s.jwtExpiry,
		JWT:             s.jwt,
		HasRefreshToken: s.tok.RefreshToken != "",
		AutoRenew:       s.autoRenew,
		Renewals:        s.renewals,
		CanRevoke:       s.client != nil && s.client.revocationURL != "",
	}
	info.CanRenew, info.Renewal = s.renewalLocked()
	if !info.CanRenew {
		info.Renewal = "cannot renew: " + info.Renewal
	}
	if !s.jwtExpiry.IsZero() && s.expirySource != ExpiryFromClaim && !s.expiry.IsZero() {
		diff := s.expiry.Sub(s.jwtExpiry)
		if diff < 0 {
			diff = -diff
		}
		info.ExpiryDisagreement = diff
		info.ExpiryDisagrees = diff > MaxExpiryDisagreement
	}
	return info
}

// renewalLocked says whether the token can be renewed, and how or why not.
func (s *Session) renewalLocked() (bool, string) {
	switch {
	case s.client == nil:
		return false, "this session was not made by a grant that can renew it"
	case s.tok.RefreshToken != "":
		return true, "with the refresh token"
	case s.client.reask != nil:
		return true, s.client.reaskLabel
	}
	return false, "the server issued no refresh token, so log in again when it expires"
}

// SetAutoRenew switches automatic renewal in Tick and Run on or off (it is
// on by default). Renew still works when it is off.
func (s *Session) SetAutoRenew(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.autoRenew = on
	s.warned = false
}

// SetRenewTiming sets how long before expiry Tick renews (default 60 s) and
// warns that the token is expiring when it will not be renewed (default 2
// min), and how long it waits after a failed renewal before trying again
// (default 30 s). Zero leaves a value unchanged. For short-lived tokens the
// renewal lead is at most a quarter, and the warning lead at most half, of
// the token's lifetime.
func (s *Session) SetRenewTiming(renewBefore, warnBefore, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if renewBefore > 0 {
		s.renewBefore = renewBefore
	}
	if warnBefore > 0 {
		s.warnBefore = warnBefore
	}
	if retryAfter > 0 {
		s.retryAfter = retryAfter
	}
}

// Subscribe registers fn for the session's events and returns a function
// that unregisters it. fn is called on the goroutine that runs Tick, Run,
// Renew or Logout, outside the session's locks; a UI must hop to its own
// goroutine (fyne.Do) before touching widgets.
func (s *Session) Subscribe(fn func(Event)) (unsubscribe func()) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	id := s.nextSub
	s.nextSub++
	s.subs[id] = fn
	return func() {
		s.subMu.Lock()
		defer s.subMu.Unlock()
		delete(s.subs, id)
	}
}

func (s *Session) emit(events ...Event) {
	if len(events) == 0 {
		return
	}
	s.subMu.Lock()
	ids := make([]int, 0, len(s.subs))
	for id := range s.subs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	fns := make([]func(Event), len(ids))
	for i, id := range ids {
		fns[i] = s.subs[id]
	}
	s.subMu.Unlock()
	for _, e := range events {
		for _, fn := range fns {
			fn(e)
		}
	}
}

// Tick looks at the clock and does what is due: renews the token shortly
// before expiry (when renewal is on and possible), or emits expiring soon and
// expired. The window or command line calls it every second (see Run); tests
// call it after moving their clock. Network calls use ctx.
func (s *Session) Tick(ctx context.Context) {
	s.mu.Lock()
	now := s.now()
	var events []Event
	var renew *oauth2.Token // the token to replace, when a renewal is due
	if !s.loggedOut && !s.expiry.IsZero() {
		left := s.expiry.Sub(now)
		lifetime := s.expiry.Sub(s.receivedAt)
		canRenew, how := s.renewalLocked()
		auto := s.autoRenew && canRenew
		if left <= 0 && !s.expiredSent {
			s.expiredSent = true
			msg := "The access token has expired."
			switch {
			case canRenew && !auto:
				msg += " Renew it or log in again."
			case !canRenew:
				msg += " Log in again."
			}
			events = append(events, Event{Kind: EventExpired, At: now, ExpiresAt: s.expiry, Message: msg})
		}
		switch {
		case auto && left <= lead(s.renewBefore, lifetime, 4) && !now.Before(s.retryAt):
			renew = s.tok
		case !auto && left > 0 && left <= lead(s.warnBefore, lifetime, 2) && !s.warned:
			s.warned = true
			why := how
			if canRenew {
				why = "automatic renewal is switched off"
			}
			events = append(events, Event{Kind: EventExpiringSoon, At: now, ExpiresAt: s.expiry,
				Message: fmt.Sprintf("The access token expires in %s and will not be renewed: %s.", left.Round(time.Second), why)})
		}
	}
	s.mu.Unlock()
	s.emit(events...)
	if renew != nil {
		_ = s.renew(ctx, renew) // reported as an event
	}
}

// lead is how long before expiry to act: want, but at most lifetime/div for
// short-lived tokens.
func lead(want, lifetime time.Duration, div time.Duration) time.Duration {
	if lifetime > 0 && lifetime/div < want {
		return lifetime / div
	}
	return want
}

// Run calls Tick for every value received from ticks until ctx ends, for
// example Run(ctx, time.NewTicker(time.Second).C). Tests send on their own
// channel.
func (s *Session) Run(ctx context.Context, ticks <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			s.Tick(ctx)
		}
	}
}

// Renew obtains a new token now: with the refresh token when there is one
// (falling back to repeating the grant when that is possible and the refresh
// fails), otherwise by repeating the grant. It emits EventRenewed or
// EventRenewalFailed, and returns ErrCannotRenew when there is no way.
func (s *Session) Renew(ctx context.Context) error {
	return s.renew(ctx, nil)
}

// renew replaces the token. When replace is not nil, it does nothing if
// another renewal has replaced that token meanwhile.
func (s *Session) renew(ctx context.Context, replace *oauth2.Token) error {
	s.renewMu.Lock()
	defer s.renewMu.Unlock()

	s.mu.Lock()
	if s.loggedOut {
		s.mu.Unlock()
		return ErrLoggedOut
	}
	if replace != nil && s.tok != replace {
		s.mu.Unlock()
		return nil
	}
	old := s.tok
	client := s.client
	ok, _ := s.renewalLocked()
	s.mu.Unlock()
	if !ok {
		return ErrCannotRenew
	}

	var (
		tok *oauth2.Token
		err error
		how string
	)
	if old.RefreshToken != "" {
		how = "with the refresh token"
		tok, err = client.refresh(ctx, old.RefreshToken)
		if err != nil && client.reask != nil && ctx.Err() == nil {
			how = client.reaskLabel + " after the refresh token was refused"
			tok, err = client.reask(ctx)
		}
	} else {
		how = client.reaskLabel
		tok, err = client.reask(ctx)
	}
	if err != nil {
		err = fmt.Errorf("renew token: %w", contextError(err))
		s.mu.Lock()
		now := s.now()
		s.retryAt = now.Add(s.retryAfter)
		exp := s.expiry
		s.mu.Unlock()
		s.emit(Event{Kind: EventRenewalFailed, At: now, ExpiresAt: exp, Err: err,
			Message: "Renewing the access token failed: " + strings.TrimPrefix(err.Error(), "renew token: ")})
		return err
	}
	jwt := s.verify(ctx, tok)

	s.mu.Lock()
	if s.loggedOut {
		s.mu.Unlock()
		return ErrLoggedOut
	}
	now := s.now()
	s.set(tok, now, jwt, s.granted, s.source)
	s.renewals++
	exp := s.expiry
	s.mu.Unlock()
	msg := "The access token was renewed " + how + "."
	if !exp.IsZero() {
		msg += fmt.Sprintf(" It expires in %s.", exp.Sub(now).Round(time.Second))
	}
	s.emit(Event{Kind: EventRenewed, At: now, ExpiresAt: exp, Message: msg})
	return nil
}

// Logout forgets the token and, when the server offers revocation (RFC
// 7009), revokes the refresh token and the access token first. After it,
// Token returns ErrLoggedOut. The returned error reports a failed revocation;
// the session is logged out regardless.
func (s *Session) Logout(ctx context.Context) error {
	s.mu.Lock()
	if s.loggedOut {
		s.mu.Unlock()
		return nil
	}
	s.loggedOut = true
	tok, client := s.tok, s.client
	now := s.now()
	s.mu.Unlock()

	var errs []error
	revoked := false
	if client != nil && client.revocationURL != "" {
		r := client.revocation()
		if tok.RefreshToken != "" {
			if err := r.Revoke(ctx, tok.RefreshToken, "refresh_token"); err != nil {
				errs = append(errs, fmt.Errorf("refresh token: %w", err))
			}
		}
		if err := r.Revoke(ctx, tok.AccessToken, "access_token"); err != nil {
			errs = append(errs, fmt.Errorf("access token: %w", err))
		}
		revoked = len(errs) == 0
	}
	msg := "Logged out."
	switch {
	case revoked:
		msg = "Logged out; the server revoked the token."
	case len(errs) > 0:
		msg = "Logged out, but the server did not confirm the revocation."
	case client == nil || client.revocationURL == "":
		msg = "Logged out (the server offers no revocation, so the token stays valid until it expires)."
	}
	err := errors.Join(errs...)
	s.emit(Event{Kind: EventLoggedOut, At: now, Message: msg, Err: err})
	return err
}

// HTTPClient returns a client that sends the session's access token as a
// Bearer token on every request made through base (nil means
// http.DefaultClient's transport). Requests fail with an error wrapping
// ErrExpired once the token has expired.
func (s *Session) HTTPClient(base *http.Client) *http.Client {
	var rt http.RoundTripper = http.DefaultTransport
	c := &http.Client{}
	if base != nil {
		*c = *base
		if base.Transport != nil {
			rt = base.Transport
		}
	}
	c.Transport = &oauth2.Transport{Source: s, Base: rt}
	return c
}

var _ oauth2.TokenSource = (*Session)(nil)
