package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"
)

// DecodedJWT is a JWT's header and claims. Verified is true only when
// VerifyJWT checked the signature against the server's JWKS; Verification
// says with which key, or why the token is not verified.
type DecodedJWT struct {
	Header map[string]any
	Claims map[string]any

	Verified     bool
	Verification string
}

// Label is what the UI shows next to the claims: "verified …" or
// "not verified" with the reason when there is one.
func (d *DecodedJWT) Label() string {
	if d.Verified {
		return d.Verification
	}
	if d.Verification != "" {
		return "not verified: " + d.Verification
	}
	return "not verified"
}

// Algorithm returns the header's alg.
func (d *DecodedJWT) Algorithm() string { return asString(d.Header["alg"]) }

// KeyID returns the header's kid.
func (d *DecodedJWT) KeyID() string { return asString(d.Header["kid"]) }

// NumericDate returns a NumericDate claim such as exp, iat or nbf.
func (d *DecodedJWT) NumericDate(claim string) (time.Time, bool) {
	switch v := d.Claims[claim].(type) {
	case float64:
		if v > 0 && v < 1<<40 {
			sec := int64(v)
			return time.Unix(sec, int64((v-float64(sec))*1e9)).UTC(), true
		}
	case json.Number:
		if f, err := v.Float64(); err == nil && f > 0 && f < 1<<40 {
			return time.Unix(int64(f), 0).UTC(), true
		}
	}
	return time.Time{}, false
}

// ErrNotJWT is returned by DecodeJWT for a token that is not a JWS compact
// serialisation (for example an opaque token).
var ErrNotJWT = errors.New("not a JWT")

// maxJWTSize bounds what DecodeJWT will look at.
const maxJWTSize = 64 << 10

// DecodeJWT decodes a JWT's header and claims without verifying its
// signature. Error messages never contain the token.
func DecodeJWT(token string) (*DecodedJWT, error) {
	if len(token) > maxJWTSize {
		return nil, fmt.Errorf("%w: longer than %d KiB", ErrNotJWT, maxJWTSize>>10)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, ErrNotJWT
	}
	var d DecodedJWT
	if err := decodeSegment(parts[0], &d.Header); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrNotJWT, err)
	}
	if err := decodeSegment(parts[1], &d.Claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrNotJWT, err)
	}
	if d.Header == nil || d.Claims == nil {
		return nil, fmt.Errorf("%w: header or claims are not JSON objects", ErrNotJWT)
	}
	return &d, nil
}

func decodeSegment(seg string, into *map[string]any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return errors.New("not base64url")
	}
	if err := json.Unmarshal(b, into); err != nil {
		return errors.New("not a JSON object")
	}
	return nil
}

// JWKS is a server's JSON Web Key Set (its public signing keys).
type JWKS struct {
	URI     string
	keys    []jose.JSONWebKey
	Skipped int // keys that could not be read (unknown key types and such)
}

// Len returns the number of usable keys.
func (k *JWKS) Len() int { return len(k.keys) }

// FetchJWKS reads the key set at uri with client (nil means
// http.DefaultClient), reading at most MaxDocumentSize bytes within
// RequestTimeout. Keys of types go-jose cannot read are skipped and
// counted, not fatal.
func FetchJWKS(ctx context.Context, client *http.Client, uri string) (*JWKS, error) {
	f, err := bounded(ctx, func(ctx context.Context) (fetched, error) {
		return getDocument(ctx, client, uri, "application/jwk-set+json, application/json;q=0.9")
	})
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	if p := f.problem(); p != "" {
		return nil, fmt.Errorf("fetch JWKS from %s: %s", uri, p)
	}
	return ParseJWKS(uri, f.body)
}

// ParseJWKS reads a JWK Set document fetched from uri.
func ParseJWKS(uri string, doc []byte) (*JWKS, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, fmt.Errorf("read JWKS from %s: %w", uri, err)
	}
	set := &JWKS{URI: uri}
	for _, k := range raw.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(k); err != nil || !key.Valid() {
			set.Skipped++
			continue
		}
		if !key.IsPublic() {
			key = key.Public()
		}
		set.keys = append(set.keys, key)
	}
	return set, nil
}

// errUnknownKey says that the JWKS has no key the token names; a Session then
// fetches the JWKS once more (the server may have rotated its keys).
var errUnknownKey = errors.New("the JWKS has no key for this token")

// asymmetricAlgs are the only signature algorithms VerifyJWT accepts: a
// public key set cannot verify HMAC, and "none" is never acceptable.
var asymmetricAlgs = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"EdDSA": true,
}

// VerifyJWT decodes token and checks its signature against keys. On success
// the result has Verified set and Verification naming the key. It checks the
// signature only: the claims (exp, aud, iss) are shown to the user, not
// enforced here.
func VerifyJWT(token string, keys *JWKS) (*DecodedJWT, error) {
	d, err := DecodeJWT(token)
	if err != nil {
		return nil, err
	}
	alg, kid := d.Algorithm(), d.KeyID()
	if !asymmetricAlgs[alg] {
		return d, fmt.Errorf("verify JWT: algorithm %q cannot be verified with the server's public keys", alg)
	}
	if keys == nil || len(keys.keys) == 0 {
		return d, fmt.Errorf("verify JWT: %w (the JWKS is empty)", errUnknownKey)
	}
	jws, err := jose.ParseSigned(token)
	if err != nil {
		return d, fmt.Errorf("verify JWT: %v", err)
	}
	tried := 0
	for _, k := range keys.keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if k.Use == "enc" || (k.Algorithm != "" && k.Algorithm != alg) {
			continue
		}
		tried++
		if _, err := jws.Verify(k); err == nil {
			d.Verified = true
			d.Verification = fmt.Sprintf("signature verified (%s, key %q from %s)", alg, k.KeyID, keys.URI)
			return d, nil
		}
	}
	if tried == 0 {
		return d, fmt.Errorf("verify JWT: %w (kid %q, alg %s)", errUnknownKey, kid, alg)
	}
	return d, errors.New("verify JWT: the signature does not match the server's keys")
}
