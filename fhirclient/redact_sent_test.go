package fhirclient

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// redactSentReference is redactSent as it was before it searched for the
// credential's tail: the definition of what redactSent must return.
func redactSentReference(body []byte, creds []string) []byte {
	for _, c := range creds {
		if len(c) >= minSentCredential && bytes.Contains(body, []byte(c)) {
			body = bytes.ReplaceAll(body, []byte(c), []byte(redacted))
		}
	}
	return body
}

// checkRedactSent compares redactSent with the reference on one input:
// the same bytes; the input itself where the reference returns its input
// (no credential occurs), otherwise a new, exactly sized slice, as
// bytes.ReplaceAll makes; and the caller's bytes untouched.
func checkRedactSent(t *testing.T, body []byte, creds []string) []byte {
	t.Helper()
	orig := bytes.Clone(body)
	in := bytes.Clone(body)
	want := redactSentReference(in, creds)
	got := redactSent(body, creds)
	if !bytes.Equal(got, want) {
		t.Fatalf("redactSent(%q, %q)\n got %q\nwant %q", orig, creds, got, want)
	}
	if !bytes.Equal(body, orig) {
		t.Fatalf("redactSent(%q, %q) modified its input to %q", orig, creds, body)
	}
	if same(want, in) != same(got, body) {
		t.Fatalf("redactSent(%q, %q): returned its input %v, the reference %v", orig, creds, same(got, body), same(want, in))
	}
	if !same(want, in) && cap(got) != cap(want) {
		t.Fatalf("redactSent(%q, %q): capacity %d, the reference %d", orig, creds, cap(got), cap(want))
	}
	return got
}

// same reports whether a and b are the same slice.
func same(a, b []byte) bool {
	return len(a) == len(b) && cap(a) == cap(b) && (cap(a) == 0 || &a[:1][0] == &b[:1][0])
}

func TestRedactSent(t *testing.T) {
	jwt := testJWT(1)
	sig := jwt[len(jwt)-sentNeedle:]
	long := strings.Repeat("ab", 20) // 40 bytes, periodic
	mid := strings.Repeat("a", 40) + "Q" + strings.Repeat("b", 40)
	if o := sentNeedleAt(mid); o != 40 {
		t.Fatalf("sentNeedleAt(%q) = %d, want 40, at the rare Q", mid, o)
	}
	if o := sentNeedleAt(jwt); o < len(jwt)-sentNeedle-sentWindow || byteRank[jwt[o]] != 0 {
		t.Fatalf("sentNeedleAt(jwt) = %d (%q), want a rare byte near the end", o, jwt[o])
	}
	for _, tc := range []struct {
		name  string
		body  string
		creds []string
		want  string
	}{
		{"empty body", "", []string{"secret-token"}, ""},
		{"no credentials", "a secret-token b", nil, "a secret-token b"},
		{"empty credential", "abc", []string{""}, "abc"},
		{"below the minimum", "a short12 b", []string{"short12"}, "a short12 b"},
		{"at the minimum", "a short123 b", []string{"short123"}, "a [redacted] b"},
		{"absent", "nothing here", []string{"secret-token"}, "nothing here"},
		{"whole body", "secret-token", []string{"secret-token"}, "[redacted]"},
		{"twice adjacent", "xsecret-tokensecret-tokeny", []string{"secret-token"}, "x[redacted][redacted]y"},
		{"overlapping", "aaaaaaaaaaaaaaaaa", []string{"aaaaaaaa"}, "[redacted][redacted]a"},
		{"overlapping long", strings.Repeat("ab", 50) + "a", []string{long},
			"[redacted][redacted]" + strings.Repeat("ab", 10) + "a"},
		{"near miss, then overlapping", "b" + long[1:] + long, []string{long}, "bb[redacted]" + strings.Repeat("ab", 19)},
		{"jwt in the body", `{"diagnostics":"token ` + jwt + ` rejected"}`, []string{jwt},
			`{"diagnostics":"token [redacted] rejected"}`},
		{"jwt twice", jwt + jwt + "," + jwt, []string{jwt}, "[redacted][redacted],[redacted]"},
		{"tail without the rest", "x" + sig + "y" + jwt[1:] + "z", []string{jwt}, "x" + sig + "y" + jwt[1:] + "z"},
		{"tail, then the whole", sig + jwt[:len(jwt)-1] + jwt, []string{jwt}, sig + jwt[:len(jwt)-1] + "[redacted]"},
		{"needle in the middle, cut short", "0123456789" + mid[:75], []string{mid}, "0123456789" + mid[:75]},
		{"needle in the middle", "x" + mid[:75] + mid + mid[1:], []string{mid}, "x" + mid[:75] + "[redacted]" + mid[1:]},
		{"truncated at the end", "x" + jwt[:len(jwt)-1], []string{jwt}, "x" + jwt[:len(jwt)-1]},
		{"prefix first", "tok-12345678-extra tok-12345678", []string{"tok-12345678", "tok-12345678-extra"},
			"[redacted]-extra [redacted]"},
		{"longer first", "tok-12345678-extra tok-12345678", []string{"tok-12345678-extra", "tok-12345678"},
			"[redacted] [redacted]"},
		{"substring of another", "0123456789abcdef 3456789a", []string{"3456789a", "0123456789abcdef"},
			"012[redacted]bcdef [redacted]"},
		{"matches across a replacement", "secret-tokentail-xyz", []string{"secret-token", "cted]tail-xyz"},
			"[reda[redacted]"},
		{"the replacement itself", "[redacted] x", []string{"[redacted]"}, "[redacted] x"},
		{"duplicate credentials", "a secret-token b", []string{"secret-token", "secret-token"}, "a [redacted] b"},
		{"Basic value and password", "Basic dXNlcjpwYXNzd29yZA== and password", []string{"dXNlcjpwYXNzd29yZA==", "password"},
			"Basic [redacted] and [redacted]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkRedactSent(t, []byte(tc.body), tc.creds); string(got) != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRedactSentHostile checks the bodies in which the credential's tail
// occurs often without the rest, where findSent goes on with the whole
// credential: the result must not change, before, at or after the switch.
func TestRedactSentHostile(t *testing.T) {
	cred := "b" + strings.Repeat("a", 99) // every 'a' run of 31 is the tail
	run := strings.Repeat("a", 5000)
	for _, body := range []string{
		run,
		run + cred + run,
		cred + run + cred,
		cred + cred + run + "b" + run[:99] + run + cred,
		strings.Repeat(cred[:60]+"x", 200) + cred,
		strings.Repeat(cred+"a", 50),
		strings.Repeat("b"+run[:120], 100) + cred,
	} {
		checkRedactSent(t, []byte(body), []string{cred, "aaaaaaaaaaab", "ba" + run[:50]})
	}
}

// FuzzRedactSent compares redactSent with the reference implementation.
// Two of the credentials are cut from the body, so that they occur in it;
// the body is repeated to give overlapping and frequent occurrences.
func FuzzRedactSent(f *testing.F) {
	jwt := testJWT(2)
	f.Add([]byte("xsecret-tokensecret-tokeny"), "secret-token", uint16(1), uint16(12), uint16(0), uint16(8), uint8(0))
	f.Add([]byte("aaaaaaaaaaaaaaaaa"), "aaaaaaaaa", uint16(0), uint16(8), uint16(3), uint16(40), uint8(3))
	f.Add([]byte(`{"d":"`+jwt+`"}`+jwt[300:]), jwt[:40], uint16(6), uint16(len(jwt)), uint16(10), uint16(30), uint8(1))
	f.Add([]byte("tok-12345678-extra tok-12345678"), "d]tok-123", uint16(0), uint16(18), uint16(0), uint16(12), uint8(2))
	f.Add([]byte(strings.Repeat("ab", 40)), "abababab", uint16(0), uint16(40), uint16(1), uint16(33), uint8(7))
	f.Fuzz(func(t *testing.T, body []byte, extra string, s1, l1, s2, l2 uint16, reps uint8) {
		cut := func(s, l uint16) string {
			if len(body) == 0 {
				return ""
			}
			i := int(s) % len(body)
			return string(body[i:min(len(body), i+int(l))])
		}
		creds := []string{cut(s1, l1), extra, cut(s2, l2)}
		body = bytes.Repeat(body, 1+int(reps%8))
		checkRedactSent(t, body, creds)
	})
}

// testJWT returns a made-up RS256 access token of about 600 bytes, shaped
// like the sandbox's and a real server's: header, claims, and a 256-byte
// signature, in base64url.
func testJWT(seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 7))
	sig := make([]byte, 256)
	for i := range sig {
		sig[i] = byte(r.Uint32())
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"RS256","kid":"d5c1a0c4e3b2a1f0","typ":"JWT"}`)) + "." +
		enc.EncodeToString([]byte(`{"iss":"https://sandbox.example.org/auth","sub":"medication-access","aud":"https://sandbox.example.org/fhir","exp":1767225600,"iat":1767222000,"scope":"system/*.read"}`)) + "." +
		enc.EncodeToString(sig)
}

// BenchmarkRedactSent measures redactSent and the reference on an
// Observation searchset (122 entries, 120 KB) with a JWT of about 600 bytes, absent
// from the page (the usual case) and present once.
func BenchmarkRedactSent(b *testing.B) {
	jwt := testJWT(3)
	page := searchset(122, observationJSON) // 120 KB
	half := len(page) / 2
	with := append(append(append([]byte{}, page[:half]...), jwt...), page[half:]...)
	creds := []string{jwt}
	for _, impl := range []struct {
		name string
		fn   func([]byte, []string) []byte
	}{{"old", redactSentReference}, {"new", redactSent}} {
		for _, in := range []struct {
			name string
			body []byte
		}{{"absent", page}, {"once", with}} {
			b.Run(impl.name+"/"+in.name, func(b *testing.B) {
				b.SetBytes(int64(len(in.body)))
				for b.Loop() {
					impl.fn(in.body, creds)
				}
			})
		}
	}
}
