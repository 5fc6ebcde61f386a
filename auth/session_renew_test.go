package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// recorder collects a session's events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func record(s *Session) *recorder {
	r := &recorder{}
	s.Subscribe(func(e Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, e)
	})
	return r
}

func (r *recorder) kinds() []EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []EventKind
	for _, e := range r.events {
		out = append(out, e.Kind)
	}
	return out
}

func (r *recorder) last() Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events[len(r.events)-1]
}

func ccSession(t *testing.T, as *stubAS, clock *fakeClock) *Session {
	t.Helper()
	sess, err := ClientCredentials{
		TokenURL: as.url("/token"), ClientID: "app", ClientSecret: "app-secret", Auth: ClientAuthBasic,
		Scopes: []string{"system/*.read"}, RevocationURL: as.url("/revoke"), Now: clock.Now,
	}.Login(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

func TestSessionRenewsClientCredentialsBeforeExpiry(t *testing.T) {
	as := newStubAS(t)
	clock := newFakeClock()
	sess := ccSession(t, as, clock)
	rec := record(sess)
	ctx := context.Background()

	clock.Advance(50 * time.Minute)
	sess.Tick(ctx)
	if as.tokenRequests() != 1 || len(rec.kinds()) != 0 {
		t.Fatalf("with 10 minutes left: %d token requests, events %v; want nothing done", as.tokenRequests(), rec.kinds())
	}
	clock.Advance(9*time.Minute + 30*time.Second) // 30 s left: inside the 60 s lead
	sess.Tick(ctx)
	if got := rec.kinds(); !reflect.DeepEqual(got, []EventKind{EventRenewed}) {
		t.Fatalf("events = %v, want [renewed]", got)
	}
	if tok, _ := sess.Token(); tok.AccessToken != "tok-2" {
		t.Errorf("token after renewal = %q, want tok-2", tok.AccessToken)
	}
	if left := sess.TimeLeft(); left != time.Hour {
		t.Errorf("TimeLeft after renewal = %v, want 1h", left)
	}
	if msg := rec.last().Message; !contains(msg, "client credentials") {
		t.Errorf("renewed message %q does not say how", msg)
	}
	if sess.Info().Renewals != 1 {
		t.Errorf("Renewals = %d", sess.Info().Renewals)
	}
}

func TestSessionRenewsExpiredToken(t *testing.T) {
	as := newStubAS(t)
	clock := newFakeClock()
	sess := ccSession(t, as, clock)
	rec := record(sess)

	clock.Advance(2 * time.Hour) // the laptop slept through the expiry
	if _, err := sess.Token(); !errors.Is(err, ErrExpired) {
		t.Fatalf("Token after expiry: %v, want ErrExpired", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	if _, err := sess.HTTPClient(nil).Get(srv.URL); !errors.Is(err, ErrExpired) {
		t.Errorf("request with the expired token: %v, want ErrExpired", err)
	}
	sess.Tick(context.Background())
	if got := rec.kinds(); !reflect.DeepEqual(got, []EventKind{EventExpired, EventRenewed}) {
		t.Fatalf("events = %v, want [expired renewed]", got)
	}
	if _, err := sess.Token(); err != nil {
		t.Errorf("Token after renewal: %v", err)
	}
}

func TestSessionRefreshTokenRenewal(t *testing.T) {
	as := newStubAS(t)
	as.set(func(a *stubAS) { a.issueRT = true; a.scope = "openid user/Patient.read" })
	clock := newFakeClock()
	b := newBrowser()
	ac := as.authCode(b)
	ac.Now = clock.Now
	sess, err := ac.Login(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b.wait(t)
	rec := record(sess)
	as.set(func(a *stubAS) { a.scope = "" }) // refresh responses omit scope

	clock.Advance(time.Hour - 10*time.Second)
	sess.Tick(context.Background())
	if got := rec.kinds(); !reflect.DeepEqual(got, []EventKind{EventRenewed}) {
		t.Fatalf("events = %v", got)
	}
	form := as.lastRequest()
	if form.Get("grant_type") != "refresh_token" || form.Get("refresh_token") != "rt-1" {
		t.Errorf("renewal form = %v, want the refresh token grant with rt-1", form)
	}
	if tok := sess.Current(); tok.RefreshToken != "rt-2" || tok.AccessToken != "tok-2" {
		t.Errorf("after refresh: %q/%q", tok.AccessToken, tok.RefreshToken)
	}
	if g, src := sess.GrantedScopes(); src != ScopesFromResponse || !reflect.DeepEqual(g, []string{"openid", "user/Patient.read"}) {
		t.Errorf("GrantedScopes after a scope-less refresh = %v (%s), want the earlier response's", g, src)
	}

	// Log-out revokes both tokens.
	if err := sess.Logout(context.Background()); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	as.mu.Lock()
	revoked := append([]string(nil), as.revoked...)
	as.mu.Unlock()
	if !reflect.DeepEqual(revoked, []string{"refresh_token:rt-2", "access_token:tok-2"}) {
		t.Errorf("revoked %v", revoked)
	}
	if _, err := sess.Token(); !errors.Is(err, ErrLoggedOut) {
		t.Errorf("Token after Logout: %v", err)
	}
	if k := rec.last().Kind; k != EventLoggedOut {
		t.Errorf("last event %v, want logged out", k)
	}
}

func TestSessionRenewalFailure(t *testing.T) {
	as := newStubAS(t)
	clock := newFakeClock()
	sess := ccSession(t, as, clock)
	rec := record(sess)
	ctx := context.Background()
	as.set(func(a *stubAS) { a.failTokens = 1 })

	clock.Advance(time.Hour - 30*time.Second)
	sess.Tick(ctx)
	if got := rec.kinds(); !reflect.DeepEqual(got, []EventKind{EventRenewalFailed}) {
		t.Fatalf("events = %v, want [renewal failed]", got)
	}
	ev := rec.last()
	var te *TokenError
	if !errors.As(ev.Err, &te) || te.Code != "invalid_grant" || !contains(ev.Message, "Refresh token revoked") {
		t.Errorf("failure event = %+v, want the server's reason", ev)
	}
	requests := as.tokenRequests()
	sess.Tick(ctx) // no retry before the back-off has passed
	if as.tokenRequests() != requests {
		t.Errorf("retried at once")
	}
	clock.Advance(30 * time.Second) // the token expires; the retry is due
	sess.Tick(ctx)
	if got := rec.kinds(); !reflect.DeepEqual(got, []EventKind{EventRenewalFailed, EventExpired, EventRenewed}) {
		t.Errorf("events = %v, want [renewal failed, expired, renewed]", got)
	}
}

func TestSessionExpiringSoonWhenRenewalOff(t *testing.T) {
	tests := []struct {
		name     string
		session  func(t *testing.T, clock *fakeClock) *Session
		wantWhy  string
		switchOf bool
	}{
		{"renewal switched off", func(t *testing.T, clock *fakeClock) *Session {
			s := ccSession(t, newStubAS(t), clock)
			s.SetAutoRenew(false)
			return s
		}, "switched off", true},
		{"no way to renew", func(t *testing.T, clock *fakeClock) *Session {
			return NewSession(&oauth2.Token{AccessToken: "x", ExpiresIn: 3600}, nil, clock.Now)
		}, "not made by a grant that can renew", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			sess := tt.session(t, clock)
			rec := record(sess)
			ctx := context.Background()
			clock.Advance(58 * time.Minute)
			sess.Tick(ctx)
			sess.Tick(ctx) // once only
			if got := rec.kinds(); !reflect.DeepEqual(got, []EventKind{EventExpiringSoon}) {
				t.Fatalf("events = %v, want [expiring soon]", got)
			}
			if msg := rec.last().Message; !contains(msg, "2m0s") || !contains(msg, tt.wantWhy) {
				t.Errorf("message %q", msg)
			}
			clock.Advance(2 * time.Minute)
			sess.Tick(ctx)
			sess.Tick(ctx)
			if got := rec.kinds(); !reflect.DeepEqual(got, []EventKind{EventExpiringSoon, EventExpired}) {
				t.Fatalf("events = %v, want [expiring soon, expired]", got)
			}
			if tt.switchOf {
				// Manual renewal still works with automatic renewal off.
				if err := sess.Renew(ctx); err != nil {
					t.Errorf("Renew: %v", err)
				}
			} else if err := sess.Renew(ctx); !errors.Is(err, ErrCannotRenew) {
				t.Errorf("Renew = %v, want ErrCannotRenew", err)
			}
		})
	}
}

func TestSessionShortLivedTokenLeads(t *testing.T) {
	as := newStubAS(t)
	as.set(func(a *stubAS) { a.expiresIn = 20 })
	clock := newFakeClock()
	sess := ccSession(t, as, clock)
	rec := record(sess)
	clock.Advance(10 * time.Second) // 10 s left of 20: more than a quarter
	sess.Tick(context.Background())
	if len(rec.kinds()) != 0 {
		t.Fatalf("renewed a 20 s token with 10 s left: %v", rec.kinds())
	}
	clock.Advance(6 * time.Second) // 4 s left: within a quarter of the lifetime
	sess.Tick(context.Background())
	if got := rec.kinds(); !reflect.DeepEqual(got, []EventKind{EventRenewed}) {
		t.Fatalf("events = %v", got)
	}
}

func TestSessionRun(t *testing.T) {
	as := newStubAS(t)
	clock := newFakeClock()
	sess := ccSession(t, as, clock)
	events := make(chan Event, 4)
	sess.Subscribe(func(e Event) { events <- e })
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sess.Run(ctx, ticks)
	}()
	clock.Advance(time.Hour)
	ticks <- clock.Now()
	select {
	case e := <-events:
		if e.Kind != EventExpired {
			t.Errorf("first event %v", e.Kind)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no event from Run")
	}
	cancel()
	<-done
}

func TestSessionExpiryCrossCheck(t *testing.T) {
	clock := newFakeClock()
	tests := []struct {
		name      string
		tok       *oauth2.Token
		wantAt    time.Time
		wantSrc   ExpirySource
		disagrees bool
	}{
		{"expires_in agrees with exp",
			&oauth2.Token{AccessToken: fakeJWT(t, map[string]any{"exp": clock.Now().Add(time.Hour + 30*time.Second).Unix()}), ExpiresIn: 3600},
			clock.Now().Add(time.Hour), ExpiryFromResponse, false},
		{"the CCRI's guide says 90 minutes, expires_in says 3600",
			&oauth2.Token{AccessToken: fakeJWT(t, map[string]any{"exp": clock.Now().Add(90 * time.Minute).Unix()}), ExpiresIn: 3600},
			clock.Now().Add(time.Hour), ExpiryFromResponse, true},
		{"expires_in as a string in Extra",
			(&oauth2.Token{AccessToken: "opaque"}).WithExtra(map[string]any{"expires_in": "120"}),
			clock.Now().Add(2 * time.Minute), ExpiryFromResponse, false},
		{"only the JWT says",
			&oauth2.Token{AccessToken: fakeJWT(t, map[string]any{"exp": clock.Now().Add(time.Hour).Unix()})},
			clock.Now().Add(time.Hour), ExpiryFromClaim, false},
		{"nobody says", &oauth2.Token{AccessToken: "opaque"}, time.Time{}, ExpiryUnknown, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := NewSession(tt.tok, nil, clock.Now).Info()
			if !info.ExpiresAt.Equal(tt.wantAt) || info.ExpirySource != tt.wantSrc || info.ExpiryDisagrees != tt.disagrees {
				t.Errorf("Info = expires %v (%s), disagrees %v (%v); want %v (%s), %v",
					info.ExpiresAt, info.ExpirySource, info.ExpiryDisagrees, info.ExpiryDisagreement, tt.wantAt, tt.wantSrc, tt.disagrees)
			}
			if info.JWT != nil && info.JWT.Label() != "not verified" {
				t.Errorf("JWT label %q, want not verified", info.JWT.Label())
			}
		})
	}
}

func TestSessionConcurrentTicksRenewOnce(t *testing.T) {
	as := newStubAS(t)
	clock := newFakeClock()
	sess := ccSession(t, as, clock)
	rec := record(sess)
	clock.Advance(time.Hour - 5*time.Second)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sess.Tick(context.Background())
			_ = sess.TimeLeft()
			_ = sess.Info()
		}()
	}
	wg.Wait()
	if n := as.tokenRequests(); n != 2 {
		t.Errorf("%d token requests, want the login and one renewal", n)
	}
	if got := rec.kinds(); !reflect.DeepEqual(got, []EventKind{EventRenewed}) {
		t.Errorf("events = %v", got)
	}
}

func TestOpenSystemBrowserRefusesOtherSchemes(t *testing.T) {
	for _, u := range []string{"file:///etc/passwd", "javascript:alert(1)", "-h", "%zz"} {
		if err := OpenSystemBrowser(context.Background(), u); err == nil {
			t.Errorf("OpenSystemBrowser(%q) accepted it", u)
		}
	}
}
