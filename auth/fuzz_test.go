package auth

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzParseScopes checks the scope parsers and both access policies on
// arbitrary scope strings: no panics, no empty or repeated scopes, and every
// parsed SMART scope writes back to what was parsed.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{
		"user/Patient.read user/Bundle.read user/*.read",
		"profile patient/Patient.read user/Patient.read",
		"patient/Observation.rs?category=vital-signs",
		"user/DocumentReference user/Binary.read system/*.cruds",
		"  openid\tfhirUser  offline_access ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		scopes := ParseScopes(s)
		seen := map[string]bool{}
		for _, sc := range scopes {
			if sc == "" || strings.IndexFunc(sc, unicode.IsSpace) >= 0 || seen[sc] {
				t.Fatalf("ParseScopes(%q) gave %q", s, scopes)
			}
			seen[sc] = true
			parsed, ok := ParseScope(sc)
			if !ok {
				continue
			}
			again, ok := ParseScope(parsed.String())
			again.Raw = parsed.Raw
			if !ok || again != parsed {
				t.Fatalf("ParseScope(%q) = %+v, but its String %q parses to %+v", sc, parsed, parsed.String(), again)
			}
			if !parsed.Read && !parsed.Search && !parsed.Create && !parsed.Update && !parsed.Delete {
				t.Fatalf("ParseScope(%q) grants nothing", sc)
			}
		}
		for _, p := range []Policy{PolicySMART, PolicyCCRI} {
			for _, a := range CheckAccess(p, scopes, []string{"Patient", "Procedure", "DocumentReference", "Organization"}) {
				if a.Reason == "" || a.Readability != a.Predicted {
					t.Fatalf("CheckAccess(%s, %q) = %+v", p, scopes, a)
				}
			}
		}
	})
}

// FuzzDecodeJWT checks that DecodeJWT never panics, returns objects on
// success, and never puts the token in its error message.
func FuzzDecodeJWT(f *testing.F) {
	for _, s := range []string{
		"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.c2ln",
		"e30.e30.",
		"opaque-access-token-value",
		"a.b.c.d.e",
		"eyJhbGciOiJub25lIn0.bnVsbA.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		d, err := DecodeJWT(token)
		if err != nil {
			if len(token) >= 8 && strings.Contains(err.Error(), token) {
				t.Fatalf("the error %q contains the token", err)
			}
			return
		}
		if d.Header == nil || d.Claims == nil || d.Verified {
			t.Fatalf("DecodeJWT(%q) = %+v", token, d)
		}
		_ = d.Label()
		_, _ = d.NumericDate("exp")
	})
}
