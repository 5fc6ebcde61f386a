package profile

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// validProfile returns a valid client-credentials profile.
func validProfile(name string) Profile {
	return Profile{
		Name:     name,
		BaseURL:  "https://ccri.example.nhs.uk/ccri-fhir/STU3",
		Grant:    GrantClientCredentials,
		ClientID: "client-" + name,
		Scopes:   []string{"system/*.read"},
	}
}

func TestValidateAccepts(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "ca.pem")
	tests := []struct {
		name   string
		modify func(*Profile)
	}{
		{"https", func(*Profile) {}},
		{"http localhost", func(p *Profile) { p.BaseURL = "http://localhost:8080/fhir" }},
		{"http 127.0.0.1", func(p *Profile) { p.BaseURL = "http://127.0.0.1:9000/STU3" }},
		{"http 127.9.9.9", func(p *Profile) { p.BaseURL = "http://127.9.9.9/STU3" }},
		{"http ipv6 loopback", func(p *Profile) { p.BaseURL = "http://[::1]:8080/STU3" }},
		{"http *.localhost", func(p *Profile) { p.BaseURL = "http://sandbox.localhost/STU3" }},
		{"http LOCALHOST", func(p *Profile) { p.BaseURL = "HTTP://LOCALHOST/STU3" }},
		{"http elsewhere, allowed", func(p *Profile) {
			p.BaseURL = "http://ccri.internal/STU3"
			p.TokenURL = "http://auth.internal/token"
			p.AllowInsecureHTTP = true
		}},
		{"grant none without client", func(p *Profile) { p.Grant = GrantNone; p.ClientID = "" }},
		{"every field", func(p *Profile) {
			p.Grant = GrantAuthorizationCode
			p.ClientAuth = ClientAuthBody
			p.AuthorizeURL = "https://auth.example.org/authorize"
			p.TokenURL = "https://auth.example.org/token"
			p.RevokeURL = "https://auth.example.org/revoke"
			p.RedirectPort = 8765
			p.Audience = "https://ccri.example.nhs.uk/ccri-fhir/STU3"
			p.Policy = PolicyCCRI
			p.CACertFile = abs
			p.Notes = "multi\nline notes"
		}},
		{"password grant", func(p *Profile) { p.Grant = GrantPassword; p.Username = "alice" }},
		{"spaces trimmed", func(p *Profile) { p.Name = "  padded  "; p.BaseURL = " https://x.example/fhir " }},
		{"empty client auth and policy mean defaults", func(p *Profile) { p.ClientAuth = ""; p.Policy = "" }},
		{"sandbox profile without base URL", func(p *Profile) { p.BaseURL = ""; p.SandboxClient = "patient-access" }},
		{"sandbox profile ignores base URL", func(p *Profile) { p.BaseURL = "not a url"; p.SandboxClient = "x" }},
		{"name of maximum length", func(p *Profile) { p.Name = strings.Repeat("é", MaxNameLength) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProfile("p")
			tt.modify(&p)
			if err := p.Validate(); err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
		})
	}
	for _, b := range Builtins() {
		if err := b.Validate(); err != nil {
			t.Errorf("built-in %q: Validate() = %v", b.Name, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Profile)
		fields []string // every field expected in the problems, in order
		substr string   // part of the first message
	}{
		{"no name", func(p *Profile) { p.Name = " " }, []string{FieldName}, "required"},
		{"long name", func(p *Profile) { p.Name = strings.Repeat("x", MaxNameLength+1) }, []string{FieldName}, "at most"},
		{"control in name", func(p *Profile) { p.Name = "a\tb" }, []string{FieldName}, "control"},
		{"no base URL", func(p *Profile) { p.BaseURL = "" }, []string{FieldBaseURL}, "required"},
		{"relative base URL", func(p *Profile) { p.BaseURL = "/fhir" }, []string{FieldBaseURL}, "absolute"},
		{"ftp base URL", func(p *Profile) { p.BaseURL = "ftp://example.org/fhir" }, []string{FieldBaseURL}, "http"},
		{"no host", func(p *Profile) { p.BaseURL = "https:///fhir" }, []string{FieldBaseURL}, "host"},
		{"user info", func(p *Profile) { p.BaseURL = "https://u:p@example.org/fhir" }, []string{FieldBaseURL}, "password"},
		{"query", func(p *Profile) { p.BaseURL = "https://example.org/fhir?x=1" }, []string{FieldBaseURL}, "query"},
		{"fragment", func(p *Profile) { p.BaseURL = "https://example.org/fhir#x" }, []string{FieldBaseURL}, "fragment"},
		{"bad URL", func(p *Profile) { p.BaseURL = "https://exa mple.org:port/" }, []string{FieldBaseURL}, "valid"},
		{"plain http elsewhere", func(p *Profile) { p.BaseURL = "http://ccri.example.nhs.uk/STU3" }, []string{FieldBaseURL}, "localhost"},
		{"plain http token endpoint", func(p *Profile) { p.TokenURL = "http://auth.example.org/token" }, []string{FieldTokenURL}, "localhost"},
		{"bad endpoints", func(p *Profile) {
			p.AuthorizeURL = "auth"
			p.RevokeURL = "mailto:x@example.org"
		}, []string{FieldAuthorizeURL, FieldRevokeURL}, "absolute"},
		{"no grant", func(p *Profile) { p.Grant = "" }, []string{FieldGrant}, "choose"},
		{"unknown grant", func(p *Profile) { p.Grant = "implicit" }, []string{FieldGrant}, "implicit"},
		{"no client id", func(p *Profile) { p.ClientID = "" }, []string{FieldClientID}, "client credentials"},
		{"unknown client auth", func(p *Profile) { p.ClientAuth = "jwt" }, []string{FieldClientAuth}, "basic or body"},
		{"bad scope", func(p *Profile) { p.Scopes = []string{`user/"x`} }, []string{FieldScopes}, "scope"},
		{"port too big", func(p *Profile) { p.RedirectPort = 70000 }, []string{FieldRedirectPort}, "65535"},
		{"negative port", func(p *Profile) { p.RedirectPort = -1 }, []string{FieldRedirectPort}, "65535"},
		{"unknown policy", func(p *Profile) { p.Policy = "xacml" }, []string{FieldPolicy}, "auto, smart or ccri"},
		{"relative CA file", func(p *Profile) { p.CACertFile = "ca.pem" }, []string{FieldCACertFile}, "absolute"},
		{"several", func(p *Profile) {
			p.Name = ""
			p.BaseURL = ""
			p.ClientID = ""
		}, []string{FieldName, FieldBaseURL, FieldClientID}, "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProfile("p")
			tt.modify(&p)
			err := p.Validate()
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate() = %v, want *ValidationError", err)
			}
			var fields []string
			for _, prob := range ve.Problems {
				fields = append(fields, prob.Field)
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("fields = %v, want %v (%v)", fields, tt.fields, err)
			}
			if msg := ve.Field(tt.fields[0]); !strings.Contains(msg, tt.substr) {
				t.Errorf("Field(%q) = %q, want it to contain %q", tt.fields[0], msg, tt.substr)
			}
			if !strings.Contains(err.Error(), tt.fields[0]+": ") {
				t.Errorf("Error() = %q does not name field %s", err, tt.fields[0])
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Profile)
		want   []string // substrings, one per warning
	}{
		{"https", func(*Profile) {}, nil},
		{"http loopback", func(p *Profile) { p.BaseURL = "http://127.0.0.1:8080/fhir" }, nil},
		{"http elsewhere", func(p *Profile) {
			p.BaseURL = "http://ccri.internal/STU3"
			p.AllowInsecureHTTP = true
		}, []string{"ccri.internal"}},
		{"http token endpoint", func(p *Profile) {
			p.TokenURL = "http://auth.internal:8080/token"
			p.AllowInsecureHTTP = true
		}, []string{"token endpoint (auth.internal:8080)"}},
		{"sandbox ignores base URL", func(p *Profile) {
			p.BaseURL = "http://ccri.internal/STU3"
			p.SandboxClient = "x"
		}, nil},
		{"password grant", func(p *Profile) { p.Grant = GrantPassword }, []string{"deprecated"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProfile("p")
			tt.modify(&p)
			got := p.Warnings()
			if len(got) != len(tt.want) {
				t.Fatalf("Warnings() = %q, want %d warnings", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestBuiltins(t *testing.T) {
	bs := Builtins()
	if len(bs) < 5 || bs[0].Name != DefaultProfileName {
		t.Fatalf("Builtins() = %d profiles, first %q", len(bs), bs[0].Name)
	}
	clients := map[string]Grant{}
	for _, b := range bs {
		if !b.Builtin || b.BaseURL != "" || b.SandboxClient == "" || !b.IsSandbox() {
			t.Errorf("built-in %+v: want Builtin, no BaseURL, a SandboxClient", b)
		}
		clients[b.SandboxClient] = b.Grant
	}
	want := map[string]Grant{
		"medication-access":  GrantClientCredentials,
		"patient-access":     GrantClientCredentials,
		"clinical-access":    GrantClientCredentials,
		"limited-access":     GrantClientCredentials,
		"ccexplorer-desktop": GrantAuthorizationCode,
	}
	for c, g := range want {
		if clients[c] != g {
			t.Errorf("sandbox client %q: grant %q, want %q", c, clients[c], g)
		}
	}
	// Callers get copies.
	bs[0].Scopes = append(bs[0].Scopes, "x")
	bs[0].Name = "changed"
	if Builtins()[0].Name != DefaultProfileName || len(Builtins()[0].Scopes) != 0 {
		t.Error("Builtins() returned shared state")
	}
}

func TestNormalizedScopes(t *testing.T) {
	p := Profile{Scopes: []string{" user/Patient.read  user/Observation.read", "", "user/Patient.read", "\tlaunch "}}
	got := p.normalized().Scopes
	want := []string{"user/Patient.read", "user/Observation.read", "launch"}
	if !slices.Equal(got, want) {
		t.Errorf("normalized scopes = %q, want %q", got, want)
	}
}

func TestCertPool(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(good, testCAPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file string
		wantPool   bool
		wantErr    string
	}{
		{"none", "", false, ""},
		{"good", good, true, ""},
		{"missing", filepath.Join(dir, "missing.pem"), false, "does not exist"},
		{"folder", dir, false, "folder"},
		{"not PEM", notPEM, false, "no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProfile("p")
			p.CACertFile = tt.file
			pool, err := p.CertPool()
			if (pool != nil) != tt.wantPool {
				t.Errorf("pool = %v, want pool: %v", pool, tt.wantPool)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CertPool() error = %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field(FieldCACertFile) == "" {
				t.Fatalf("CertPool() error = %v, want a ValidationError for %s", err, FieldCACertFile)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.file) {
				t.Errorf("error %q should contain %q and name the file", err, tt.wantErr)
			}
		})
	}
}

// testCAPEM returns a self-signed CA certificate in PEM.
func testCAPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Test NHS Internal CA"},
		NotBefore:             time.Unix(0, 0),
		NotAfter:              time.Unix(1<<32, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
