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
)

// signingKey is the ES256 key that signs the sandbox's access tokens.
type signingKey struct {
	priv *ecdsa.PrivateKey
	kid  string
	jwk  map[string]string
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
