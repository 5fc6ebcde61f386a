package auth

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func fakeJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	seg := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b64(b)
	}
	return seg(map[string]any{"alg": "RS256", "typ": "JWT"}) + "." + seg(claims) + ".c2ln"
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestGrantedScopesSources(t *testing.T) {
	requested := []string{"user/Patient.read"}
	tests := []struct {
		name       string
		tok        *oauth2.Token
		want       []string
		wantSource ScopeSource
	}{
		{
			name: "response scope wins over the claim",
			tok: (&oauth2.Token{AccessToken: fakeJWT(t, map[string]any{"scope": "claim/Patient.read"})}).
				WithExtra(map[string]any{"scope": "user/Patient.read  profile user/Patient.read"}),
			want: []string{"user/Patient.read", "profile"}, wantSource: ScopesFromResponse,
		},
		{
			name:       "scope claim when the response is silent",
			tok:        &oauth2.Token{AccessToken: fakeJWT(t, map[string]any{"scope": "user/Observation.read"})},
			want:       []string{"user/Observation.read"},
			wantSource: ScopesFromClaim,
		},
		{
			name:       "scp claim as an array",
			tok:        &oauth2.Token{AccessToken: fakeJWT(t, map[string]any{"scp": []any{"a", "b"}})},
			want:       []string{"a", "b"},
			wantSource: ScopesFromClaim,
		},
		{
			name:       "opaque token: the requested scopes, assumed",
			tok:        &oauth2.Token{AccessToken: "opaque-token-value"},
			want:       requested,
			wantSource: ScopesRequested,
		},
		{
			name:       "JWT without scope claim (like the CCRI's example token)",
			tok:        &oauth2.Token{AccessToken: fakeJWT(t, map[string]any{"sub": "x"})},
			want:       requested,
			wantSource: ScopesRequested,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, src := GrantedScopes(tt.tok, requested)
			if !reflect.DeepEqual(got, tt.want) || src != tt.wantSource {
				t.Errorf("GrantedScopes = %v (%s), want %v (%s)", got, src, tt.want, tt.wantSource)
			}
		})
	}
}

func TestSessionTimeLeft(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := NewSession(&oauth2.Token{AccessToken: "x", Expiry: now.Add(90 * time.Second)}, nil, clock)
	if got := s.TimeLeft(); got != 90*time.Second {
		t.Errorf("TimeLeft = %v, want 90s", got)
	}
	if _, err := s.Token(); err != nil {
		t.Errorf("Token before expiry: %v", err)
	}
	now = now.Add(2 * time.Minute)
	if got := s.TimeLeft(); got != 0 {
		t.Errorf("TimeLeft after expiry = %v, want 0", got)
	}
	if _, err := s.Token(); err != ErrExpired {
		t.Errorf("Token after expiry: err = %v, want ErrExpired", err)
	}
	unknown := NewSession(&oauth2.Token{AccessToken: "x"}, nil, clock)
	if got := unknown.TimeLeft(); got != -1 {
		t.Errorf("TimeLeft with no expiry = %v, want -1", got)
	}
}

func TestDecodeJWTRejectsNonJWTs(t *testing.T) {
	for _, tok := range []string{"", "opaque", "a.b", "!!.!!.!!", "e30.bm90IGpzb24.c2ln"} {
		if _, err := DecodeJWT(tok); err == nil {
			t.Errorf("DecodeJWT(%q) succeeded, want an error", tok)
		}
	}
}
