package sandbox

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// cachedToken reports whether s holds token in its cache of verified tokens.
func cachedToken(s *Server, token string) bool {
	_, _, ok := s.key.verified.get(token)
	return ok
}

// signToken signs claims with priv as an ES256 JWT with the given key id.
func signToken(t *testing.T, priv *ecdsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "ES256", "kid": kid, "typ": "at+jwt"})
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	signed := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	digest := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signed + "." + b64.EncodeToString(sig)
}

// revoke revokes token at the revocation endpoint.
func revoke(t *testing.T, s *Server, token string, c ClientInfo) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.Info().RevocationEndpoint, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ClientID, c.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
}

// wantRefused checks that a FHIR request with token gets a 401 whose diagnostics mention reason.
func wantRefused(t *testing.T, s *Server, token, reason string) {
	t.Helper()
	r := get(t, s.FHIRBase()+"/Patient?_count=1", token)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401 (%s)", r.status, reason)
	}
	if d := outcome(t, r); !strings.Contains(d, reason) {
		t.Errorf("diagnostics %q, want %q", d, reason)
	}
}

func TestCachedTokenIsRefusedOnceRevoked(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{Patients: 3})
	c := clientInfo(t, s, ClientPatientAccess)
	tok := clientToken(t, s, ClientPatientAccess)
	for range 2 {
		if r := get(t, s.FHIRBase()+"/Patient?_count=1", tok); r.status != http.StatusOK {
			t.Fatalf("fresh token: %d", r.status)
		}
	}
	if !cachedToken(s, tok) {
		t.Fatal("an accepted token was not cached")
	}
	revoke(t, s, tok, c)
	for range 2 {
		wantRefused(t, s, tok, "revoked")
		if cachedToken(s, tok) {
			t.Error("a revoked token is still cached")
		}
	}
	if introspect(t, s, tok, c) {
		t.Error("revoked token still active")
	}
}

func TestCachedTokenIsRefusedOnceExpired(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := startSandbox(t, Config{Patients: 3, Now: clock.Now, TokenTTL: 2 * time.Minute})
	tok := clientToken(t, s, ClientPatientAccess)
	if r := get(t, s.FHIRBase()+"/Patient?_count=1", tok); r.status != http.StatusOK {
		t.Fatalf("fresh token: %d", r.status)
	}
	if !cachedToken(s, tok) {
		t.Fatal("an accepted token was not cached")
	}
	clock.Advance(2 * time.Minute)
	for range 2 {
		wantRefused(t, s, tok, "expired")
		if cachedToken(s, tok) {
			t.Error("an expired token is still cached")
		}
	}
	// A token that has expired before it is first presented is never cached.
	late := clientToken(t, s, ClientPatientAccess)
	clock.Advance(3 * time.Minute)
	wantRefused(t, s, late, "expired")
	if cachedToken(s, late) {
		t.Error("an expired token was cached")
	}
}

func TestTamperedTokenIsRefusedDespiteTheCache(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{Patients: 3})
	tok := clientToken(t, s, ClientPatientAccess)
	if r := get(t, s.FHIRBase()+"/Patient?_count=1", tok); r.status != http.StatusOK {
		t.Fatalf("fresh token: %d", r.status)
	}
	if !cachedToken(s, tok) {
		t.Fatal("an accepted token was not cached")
	}
	parts := strings.Split(tok, ".")
	var claims map[string]any
	if err := json.Unmarshal(must(b64.DecodeString(parts[1])), &claims); err != nil {
		t.Fatal(err)
	}
	other, err := newSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	flip := func(s string, i int) string { // change one base64url character
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	wider := map[string]any{}
	for k, v := range claims {
		wider[k] = v
	}
	wider["scope"] = "user/*.read"
	for name, bad := range map[string]string{
		// The same claims, signed by another key (with this server's key id or none).
		"same claims, another key":        signToken(t, other.priv, s.key.kid, claims),
		"same claims, another key no kid": signToken(t, other.priv, "", claims),
		// The cached token with one character of its signature changed.
		"signature changed": parts[0] + "." + parts[1] + "." + flip(parts[2], 10),
		// The cached token's signature over other claims.
		"claims changed": parts[0] + "." + b64.EncodeToString(must(json.Marshal(wider))) + "." + parts[2],
	} {
		if bad == tok {
			t.Fatalf("%s: the token did not change", name)
		}
		for range 2 {
			wantRefused(t, s, bad, "signature")
		}
		if cachedToken(s, bad) {
			t.Errorf("%s: a token that failed verification was cached", name)
		}
	}
	if r := get(t, s.FHIRBase()+"/Patient?_count=1", tok); r.status != http.StatusOK {
		t.Errorf("the genuine token after the forgeries: %d", r.status)
	}
}

func TestTokensFailingOtherChecksAreNotCached(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{Patients: 3})
	now := time.Now().Unix()
	good := map[string]any{"iss": s.issuer, "aud": s.fhirBase, "sub": "x", "client_id": ClientPatientAccess,
		"scope": "user/Patient.read", "iat": now, "exp": now + 600}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		m[k] = v
		return m
	}
	for name, tc := range map[string]struct {
		claims map[string]any
		reason string
	}{
		"another issuer":   {with("iss", "https://elsewhere.example/ccri-auth"), "not issued by this server"},
		"another audience": {with("aud", "https://elsewhere.example/fhir"), "not issued by this server"},
		"no expiry":        {with("exp", 0), "expired"},
		"expired":          {with("exp", now-1), "expired"},
		"never issued":     {good, "revoked"}, // signed with the key but unknown to the store
	} {
		tok := signToken(t, s.key.priv, s.key.kid, tc.claims)
		for range 2 {
			wantRefused(t, s, tok, tc.reason)
		}
		if cachedToken(s, tok) {
			t.Errorf("%s: cached", name)
		}
	}
	if n := s.key.verified.len(); n != 0 {
		t.Errorf("%d tokens cached, want 0", n)
	}
}

func TestVerifiedTokensStayWithinTheirBound(t *testing.T) {
	t.Parallel()
	var v verifiedTokens
	c := &tokenClaims{Subject: "s", Audience: audience{"a"}}
	tok := func(i int) string { return fmt.Sprintf("token-%d", i) }
	const n = maxVerifiedTokens + 500
	for i := range n {
		v.add(tok(i), c, "sig")
		if i%7 == 0 { // removed and added again: two ring slots name it
			v.remove(tok(i))
			v.add(tok(i), c, "sig")
		}
		if i%11 == 0 {
			v.remove(tok(i))
		}
		if v.len() > maxVerifiedTokens {
			t.Fatalf("%d tokens cached after %d adds, bound %d", v.len(), i+1, maxVerifiedTokens)
		}
	}
	if _, _, ok := v.get(tok(0)); ok {
		t.Error("the oldest token was not evicted")
	}
	if _, _, ok := v.get(tok(n - 1)); !ok {
		t.Error("the newest token was evicted")
	}
	// The caller gets a copy: changing it changes nothing cached.
	got, sig, _ := v.get(tok(n - 1))
	got.Subject = "changed"
	if again, _, _ := v.get(tok(n - 1)); again.Subject != "s" || sig != "sig" {
		t.Errorf("cached claims changed through a returned copy: %+v %q", again, sig)
	}

	// Concurrent use, for the race detector.
	var w verifiedTokens
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := tok(g*1000 + i)
				w.add(k, c, "sig")
				w.get(tok(i))
				if i%5 == 0 {
					w.remove(k)
				}
			}
		})
	}
	wg.Wait()
	if w.len() > maxVerifiedTokens {
		t.Errorf("%d tokens cached concurrently, bound %d", w.len(), maxVerifiedTokens)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
