package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
)

// signingKey is the ES256 key that signs the sandbox's access tokens.
type signingKey struct {
	priv *ecdsa.PrivateKey
	kid  string
	jwk  map[string]string

	// verified holds tokens whose signature this key verified, so that each is checked once.
	verified verifiedTokens
}

var b64 = base64.RawURLEncoding

func newSigningKey() (*signingKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	pub, err := priv.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	x, y := b64.EncodeToString(pub[1:33]), b64.EncodeToString(pub[33:65])
	// RFC 7638 thumbprint as key id.
	thumb := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	k := &signingKey{priv: priv, kid: b64.EncodeToString(thumb[:])}
	k.jwk = map[string]string{"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": k.kid, "use": "sig", "alg": "ES256"}
	return k, nil
}

// jwks returns the JSON Web Key Set with the public key.
func (k *signingKey) jwks() []byte {
	b, _ := json.Marshal(map[string]any{"keys": []any{k.jwk}})
	return b
}

// Token verification errors, each one a reason for a 401.
var (
	errTokenMissing   = errors.New("no bearer token in the Authorization header")
	errTokenMalformed = errors.New("the access token is not a well-formed JWT")
	errTokenSignature = errors.New("the access token signature does not verify with this server's key")
	errTokenExpired   = errors.New("the access token has expired")
	errTokenRevoked   = errors.New("the access token has been revoked")
	errTokenClaims    = errors.New("the access token was not issued by this server for this FHIR server")
)

// tokenClaims are the RFC 9068 claims the resource server reads.
type tokenClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience audience `json:"aud"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
	IssuedAt int64    `json:"iat"`
	Expiry   int64    `json:"exp"`
	ID       string   `json:"jti"`
}

// audience accepts "aud" as a string or an array.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("aud: %w", err)
	}
	*a = many
	return nil
}

// verify checks the JWT's ES256 signature and returns its claims and signature part.
// Expiry, issuer and revocation are checked by the caller.
func (k *signingKey) verify(token string) (*tokenClaims, string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, "", errTokenMalformed
	}
	hb, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, "", fmt.Errorf("%w: header: %w", errTokenMalformed, err)
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return nil, "", fmt.Errorf("%w: header: %w", errTokenMalformed, err)
	}
	if hdr.Alg != "ES256" || (hdr.Kid != "" && hdr.Kid != k.kid) {
		return nil, "", errTokenSignature
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, "", errTokenSignature
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&k.priv.PublicKey, digest[:], r, s) {
		return nil, "", errTokenSignature
	}
	cb, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, "", fmt.Errorf("%w: claims: %w", errTokenMalformed, err)
	}
	var c tokenClaims
	if err := json.Unmarshal(cb, &c); err != nil {
		return nil, "", fmt.Errorf("%w: claims: %w", errTokenMalformed, err)
	}
	return &c, parts[2], nil
}

// maxVerifiedTokens bounds verifiedTokens: a few thousand live tokens, a few MB at most.
const maxVerifiedTokens = 4096

// verifiedTokens is a bounded cache of access tokens whose ES256 signature has been verified,
// with the claims decoded from them. It is keyed by the whole token string, so a hit means
// exactly these bytes verified before; any other string, a different signature included,
// misses and is verified in full. It holds only signature and claim decoding: the caller
// still checks issuer, audience, expiry and revocation on every use. When full it forgets
// the oldest entry (first in, first out: with one lifetime for every token, the one that
// expires first). It is safe for concurrent use.
type verifiedTokens struct {
	mu    sync.RWMutex
	m     map[string]*verifiedToken
	order []string // tokens in the order they were added, a ring of maxVerifiedTokens
	next  int      // the ring position to write next
}

type verifiedToken struct {
	claims tokenClaims
	sig    string
}

// get returns a copy of the claims and the signature part of a token verified before.
func (v *verifiedTokens) get(token string) (*tokenClaims, string, bool) {
	v.mu.RLock()
	e, ok := v.m[token]
	v.mu.RUnlock()
	if !ok {
		return nil, "", false
	}
	c := e.claims
	return &c, e.sig, true
}

// add remembers a token whose signature verified, with its claims and signature part.
func (v *verifiedTokens) add(token string, c *tokenClaims, sig string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.m[token]; ok {
		return
	}
	if v.m == nil {
		v.m = make(map[string]*verifiedToken)
		v.order = make([]string, maxVerifiedTokens)
	}
	// Each token in m owns the ring slot of its latest add, so m never outgrows the ring.
	// An older slot may still name a token removed and added again since; overwriting that
	// slot forgets the token early, which costs one more verification and nothing else.
	if old := v.order[v.next]; old != "" {
		delete(v.m, old)
	}
	token = strings.Clone(token) // not the request's header
	v.order[v.next] = token
	v.next = (v.next + 1) % maxVerifiedTokens
	v.m[token] = &verifiedToken{claims: *c, sig: sig}
}

// remove forgets a token (it has expired or been revoked).
func (v *verifiedTokens) remove(token string) {
	v.mu.Lock()
	delete(v.m, token)
	v.mu.Unlock()
}

// len reports how many tokens are cached.
func (v *verifiedTokens) len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.m)
}
