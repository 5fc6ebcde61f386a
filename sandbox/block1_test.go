package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

func TestClientCredentialsTokenScopes(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{})
	tests := []struct {
		client    string
		scope     string
		wantScope string
	}{
		{ClientPatientAccess, "", "profile patient/Patient.read user/Patient.read"},
		{ClientPatientAccess, "user/Patient.read", "user/Patient.read"},
		{ClientLimitedAccess, "", "profile"},
		{ClientMedicationAccess, "", "user/Patient.read user/Bundle.read user/*.read"},
	}
	for _, tt := range tests {
		t.Run(tt.client+"/"+tt.scope, func(t *testing.T) {
			c := clientInfo(t, s, tt.client)
			form := url.Values{"grant_type": {"client_credentials"}}
			if tt.scope != "" {
				form.Set("scope", tt.scope)
			}
			tr := postToken(t, s, form, c.ClientID, c.ClientSecret)
			if tr.status != http.StatusOK {
				t.Fatalf("status %d: %s %s", tr.status, tr.Error, tr.ErrorDescription)
			}
			if !sameScopes(tr.Scope, tt.wantScope) {
				t.Errorf("response scope %q, want %q", tr.Scope, tt.wantScope)
			}
			if tr.ExpiresIn != 3600 {
				t.Errorf("expires_in %d, want 3600", tr.ExpiresIn)
			}
			claims := jwtClaims(t, tr.AccessToken)
			if claims["scope"] != tr.Scope {
				t.Errorf("scope claim %q, response scope %q", claims["scope"], tr.Scope)
			}
			if claims["iss"] != s.Info().Issuer || claims["client_id"] != tt.client || claims["sub"] != tt.client {
				t.Errorf("claims %v", claims)
			}
			if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 3600 {
				t.Errorf("exp-iat = %v", exp-iat)
			}
			hb, _ := b64.DecodeString(strings.Split(tr.AccessToken, ".")[0])
			var hdr map[string]string
			if err := json.Unmarshal(hb, &hdr); err != nil || hdr["alg"] != "ES256" || hdr["typ"] != "at+jwt" || hdr["kid"] != s.key.kid {
				t.Errorf("JWT header %s", hb)
			}
			for _, k := range []string{"aud", "jti"} {
				if claims[k] == nil {
					t.Errorf("claim %s missing", k)
				}
			}
		})
	}
}

func sameScopes(a, b string) bool {
	x, y := strings.Fields(a), strings.Fields(b)
	sort.Strings(x)
	sort.Strings(y)
	return strings.Join(x, " ") == strings.Join(y, " ")
}

func TestPatientSearchWithToken(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{})
	tok := clientToken(t, s, ClientPatientAccess)
	r := get(t, s.FHIRBase()+"/Patient?_count=50", tok)
	b := decodeBundle(t, r)
	if b.Total != 50 || len(b.Entry) < 20 {
		t.Fatalf("total %d, entries %d", b.Total, len(b.Entry))
	}
	for _, e := range b.Entry {
		var p struct {
			ResourceType string `json:"resourceType"`
			Meta         struct{ Profile []string }
			Identifier   []struct{ System, Value string }
			Name         []struct {
				Family string
				Given  []string
			}
			Gender    string
			BirthDate string
		}
		if err := json.Unmarshal(e.Resource, &p); err != nil {
			t.Fatal(err)
		}
		if p.ResourceType != "Patient" || len(p.Meta.Profile) == 0 || p.Meta.Profile[0] != "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1" {
			t.Errorf("patient meta: %s", e.Resource)
		}
		nhs := ""
		for _, id := range p.Identifier {
			if id.System == "https://fhir.nhs.uk/Id/nhs-number" {
				nhs = id.Value
			}
		}
		if !strings.HasPrefix(nhs, "999") || !validNHSNumber(nhs) {
			t.Errorf("NHS number %q is not a valid 999 test number", nhs)
		}
		if len(p.Name) == 0 || p.Name[0].Family == "" || p.Gender == "" || p.BirthDate == "" {
			t.Errorf("incomplete patient: %s", e.Resource)
		}
	}
}

func TestNHSCheckDigit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		number string
		valid  bool
	}{
		{"9434765919", true}, // NHS Digital's published example
		{"9434765918", false},
		{"943476591", false},
		{"94347659x9", false},
	}
	for _, tt := range tests {
		if got := validNHSNumber(tt.number); got != tt.valid {
			t.Errorf("validNHSNumber(%q) = %v, want %v", tt.number, got, tt.valid)
		}
	}
}

func TestUnauthorizedAndForbidden(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{})
	good := clientToken(t, s, ClientPatientAccess)
	limited := clientToken(t, s, ClientLimitedAccess)
	tests := []struct {
		name       string
		token      string
		wantStatus int
		wantAuth   string
	}{
		{"no token", "", http.StatusUnauthorized, `error="invalid_token"`},
		{"garbage", "not-a-jwt", http.StatusUnauthorized, `error="invalid_token"`},
		{"wrong key", resign(t, good), http.StatusUnauthorized, `error="invalid_token"`},
		{"limited-access", limited, http.StatusForbidden, `error="insufficient_scope", scope="user/Patient.read"`},
		{"patient-access", good, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, s.FHIRBase()+"/Patient", tt.token)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantStatus == http.StatusOK {
				return
			}
			if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer ") || !strings.Contains(h, tt.wantAuth) {
				t.Errorf("WWW-Authenticate %q, want %q", h, tt.wantAuth)
			}
			if tt.wantStatus == http.StatusUnauthorized && !strings.Contains(r.header.Get("WWW-Authenticate"), `realm="ccri-fhir"`) {
				t.Errorf("WWW-Authenticate %q without realm", r.header.Get("WWW-Authenticate"))
			}
			d := outcome(t, r)
			if tt.wantStatus == http.StatusForbidden && !strings.Contains(d, "user/Patient.read") {
				t.Errorf("diagnostics %q do not name the scope", d)
			}
		})
	}
}

// resign signs token's header and claims with a freshly generated key.
func resign(t *testing.T, token string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(token, ".")
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return parts[0] + "." + parts[1] + "." + b64.EncodeToString(sig)
}

func TestCapabilityStatementOAuthURIs(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{NoWellKnown: true})
	r := get(t, s.FHIRBase()+"/metadata", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var cs struct {
		ResourceType string `json:"resourceType"`
		FHIRVersion  string `json:"fhirVersion"`
		Rest         []struct {
			Security struct {
				Extension []struct {
					URL       string `json:"url"`
					Extension []struct {
						URL      string `json:"url"`
						ValueURI string `json:"valueUri"`
					} `json:"extension"`
				} `json:"extension"`
				Service []struct {
					Coding []struct{ Code string } `json:"coding"`
				} `json:"service"`
			} `json:"security"`
			Resource []struct {
				Type string `json:"type"`
			} `json:"resource"`
		} `json:"rest"`
	}
	if err := json.Unmarshal(r.body, &cs); err != nil {
		t.Fatal(err)
	}
	if cs.ResourceType != "CapabilityStatement" || cs.FHIRVersion != "3.0.1" || len(cs.Rest) != 1 {
		t.Fatalf("capability statement: %s", r.body[:200])
	}
	uris := map[string]string{}
	for _, e := range cs.Rest[0].Security.Extension {
		if e.URL == oauthURIsExtension {
			for _, sub := range e.Extension {
				uris[sub.URL] = sub.ValueURI
			}
		}
	}
	info := s.Info()
	want := map[string]string{"authorize": info.AuthorizeEndpoint, "token": info.TokenEndpoint, "revoke": info.RevocationEndpoint}
	for k, v := range want {
		if uris[k] != v {
			t.Errorf("oauth-uris %s = %q, want %q", k, uris[k], v)
		}
	}
	if len(cs.Rest[0].Security.Service) == 0 || cs.Rest[0].Security.Service[0].Coding[0].Code != "SMART-on-FHIR" {
		t.Errorf("security service: %+v", cs.Rest[0].Security.Service)
	}
	if len(cs.Rest[0].Resource) != len(resourceTypes) {
		t.Errorf("%d resources listed", len(cs.Rest[0].Resource))
	}
	for _, p := range []string{"/.well-known/smart-configuration"} {
		if r := get(t, s.FHIRBase()+p, ""); r.status != http.StatusNotFound {
			t.Errorf("%s with NoWellKnown: status %d", p, r.status)
		}
	}
	if r := get(t, info.Issuer+"/.well-known/openid-configuration", ""); r.status != http.StatusNotFound {
		t.Errorf("openid-configuration with NoWellKnown: status %d", r.status)
	}
}

func TestEveryGeneratedResourceValidates(t *testing.T) {
	t.Parallel()
	d := generate(7, 8)
	var c jsonCache
	for _, typ := range resourceTypes {
		recs := d.table(typ).records
		if len(recs) == 0 {
			t.Errorf("no %s records", typ)
		}
		for _, r := range recs {
			if _, err := d.resourceJSON(&c, r); err != nil {
				t.Errorf("%s: %v", r.ref(), err)
			}
		}
	}
}
