package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v3"
)

type testKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv any
	pub  any
}

var (
	keysOnce sync.Once
	rsaKey1  testKey
	rsaKey2  testKey
	ecKey    testKey
)

func testKeys(t *testing.T) (testKey, testKey, testKey) {
	t.Helper()
	keysOnce.Do(func() {
		r1, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		rsaKey1 = testKey{"rsa-1", jose.RS256, r1, &r1.PublicKey}
		rsaKey2 = testKey{"rsa-2", jose.RS256, r2, &r2.PublicKey}
		ecKey = testKey{"ec-1", jose.ES256, ec, &ec.PublicKey}
	})
	return rsaKey1, rsaKey2, ecKey
}

func sign(t *testing.T, k testKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jwksDoc(t *testing.T, keys ...testKey) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.pub, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyJWT(t *testing.T) {
	k1, k2, ec := testKeys(t)
	claims := map[string]any{"sub": "x", "scope": "user/*.read"}
	jwks, err := ParseJWKS("https://as.example/jwks", jwksDoc(t, k1, ec))
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, k1, claims)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + b64([]byte(`{"sub":"admin","scope":"user/*.*"}`)) + "." + parts[2]
	forgedKid := sign(t, testKey{kid: "rsa-1", alg: jose.RS256, priv: k2.priv}, claims)
	none := fakeJWTWithHeader(t, map[string]any{"alg": "none"}, claims)
	hs := fakeJWTWithHeader(t, map[string]any{"alg": "HS256", "kid": "rsa-1"}, claims)

	tests := []struct {
		name    string
		token   string
		ok      bool
		errText string
	}{
		{"RS256 with a known key", good, true, ""},
		{"ES256 with a known key", sign(t, ec, claims), true, ""},
		{"a key the JWKS lacks", sign(t, k2, claims), false, "no key"},
		{"a known kid with the wrong key", forgedKid, false, "does not match"},
		{"tampered claims", tampered, false, "does not match"},
		{"alg none", none, false, "cannot be verified"},
		{"HMAC", hs, false, "cannot be verified"},
		{"opaque", "opaque-token", false, "not a JWT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := VerifyJWT(tt.token, jwks)
			if tt.ok {
				if err != nil || !d.Verified || !strings.Contains(d.Label(), "signature verified") {
					t.Fatalf("VerifyJWT: %v, %+v", err, d)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errText) {
				t.Fatalf("VerifyJWT error = %v, want %q", err, tt.errText)
			}
			if d != nil && d.Verified {
				t.Errorf("marked verified")
			}
			if strings.Contains(err.Error(), tt.token) {
				t.Errorf("the error contains the token")
			}
		})
	}
}

func fakeJWTWithHeader(t *testing.T, header, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return b64(h) + "." + b64(c) + ".c2ln"
}

func TestParseJWKSSkipsUnknownKeys(t *testing.T) {
	k1, _, _ := testKeys(t)
	var doc map[string][]json.RawMessage
	_ = json.Unmarshal(jwksDoc(t, k1), &doc)
	doc["keys"] = append(doc["keys"], json.RawMessage(`{"kty":"XYZ","kid":"odd"}`), json.RawMessage(`{"kty":"RSA","kid":"broken","n":"!!"}`))
	b, _ := json.Marshal(doc)
	set, err := ParseJWKS("u", b)
	if err != nil || set.Len() != 1 || set.Skipped != 2 {
		t.Fatalf("ParseJWKS = %+v, %v; want 1 key and 2 skipped", set, err)
	}
	if _, err := ParseJWKS("u", []byte("<html>")); err == nil {
		t.Errorf("ParseJWKS accepted HTML")
	}
}

// TestSessionVerifiesWithJWKS: the session fetches the JWKS, verifies each
// token, and fetches the set again when the server has rotated its key.
func TestSessionVerifiesWithJWKS(t *testing.T) {
	k1, k2, _ := testKeys(t)
	var mu sync.Mutex
	current := []testKey{k1}
	fetches := 0
	jwksSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fetches++
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(jwksDoc(t, current...))
	}))
	defer jwksSrv.Close()

	as := newStubAS(t)
	signWith := k1
	as.set(func(a *stubAS) {
		a.mint = func(n int) string { return sign(t, signWith, map[string]any{"n": n, "scope": "system/*.read"}) }
	})
	clock := newFakeClock()
	sess, err := ClientCredentials{
		TokenURL: as.url("/token"), ClientID: "app", ClientSecret: "app-secret", Auth: ClientAuthBasic,
		JWKSURI: jwksSrv.URL, Now: clock.Now,
	}.Login(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	info := sess.Info()
	if info.JWT == nil || !info.JWT.Verified || !strings.Contains(info.JWT.Label(), `"rsa-1"`) {
		t.Fatalf("JWT = %+v", info.JWT)
	}
	if g, src := sess.GrantedScopes(); src != ScopesFromClaim || len(g) != 1 {
		t.Errorf("GrantedScopes = %v (%s)", g, src)
	}

	// The server rotates to rsa-2.
	as.set(func(a *stubAS) { signWith = k2 })
	mu.Lock()
	current = []testKey{k2}
	mu.Unlock()
	if err := sess.Renew(context.Background()); err != nil {
		t.Fatal(err)
	}
	if info := sess.Info(); !info.JWT.Verified || !strings.Contains(info.JWT.Label(), `"rsa-2"`) {
		t.Errorf("after rotation: %s", info.JWT.Label())
	}
	mu.Lock()
	if fetches != 2 {
		t.Errorf("JWKS fetched %d times, want 2", fetches)
	}
	mu.Unlock()

	// A JWKS that cannot be fetched leaves the token "not verified", with why.
	jwksSrv.Close()
	if err := sess.Renew(context.Background()); err != nil {
		t.Fatal(err)
	}
	as.set(func(a *stubAS) { signWith = k1 }) // unknown to the cached set
	if err := sess.Renew(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l := sess.Info().JWT.Label(); !strings.HasPrefix(l, "not verified: ") {
		t.Errorf("label %q, want not verified with a reason", l)
	}
}
