package sandbox

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestInfoListsClientsAndUsers(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{Patients: 3})
	b, err := json.Marshal(s.Info())
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"fhir_base", "issuer", "authorize_endpoint", "token_endpoint", "jwks_uri", "revocation_endpoint", "introspection_endpoint", "policy", "clients", "users"} {
		if info[k] == nil {
			t.Errorf("Info JSON lacks %s", k)
		}
	}
	base := s.FHIRBase()
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/ccri-fhir/STU3") || s.Info().Issuer != strings.TrimSuffix(base, "/ccri-fhir/STU3")+"/ccri-auth" {
		t.Errorf("URLs %s %s", base, s.Info().Issuer)
	}
	want := map[string]string{
		ClientMedicationAccess: "user/Patient.read user/Bundle.read user/*.read",
		ClientPatientAccess:    "profile patient/Patient.read user/Patient.read",
		ClientLimitedAccess:    "profile",
	}
	for id, scopes := range want {
		if c := clientInfo(t, s, id); strings.Join(c.Scopes, " ") != scopes || c.ClientSecret == "" || c.Public {
			t.Errorf("%s: %+v", id, c)
		}
	}
	clinical := clientInfo(t, s, ClientClinicalAccess)
	for _, typ := range []string{"MedicationStatement", "Immunization", "Patient", "Condition", "MedicationRequest", "Encounter", "Observation"} {
		for _, prefix := range []string{"user/", "patient/"} {
			if !strings.Contains(" "+strings.Join(clinical.Scopes, " ")+" ", " "+prefix+typ+".read ") {
				t.Errorf("clinical-access lacks %s%s.read", prefix, typ)
			}
		}
	}
	if d := clientInfo(t, s, ClientDesktop); !d.Public || d.ClientSecret != "" || len(d.RedirectURIs) == 0 {
		t.Errorf("desktop client %+v", d)
	}
	if len(s.Info().Users) < 3 {
		t.Errorf("users %+v", s.Info().Users)
	}
	for _, u := range s.Info().Users {
		if u.Username == "" || u.Password == "" || len(u.Scopes) == 0 {
			t.Errorf("user %+v", u)
		}
	}
}

func TestSandboxesAreIndependent(t *testing.T) {
	t.Parallel()
	a := startSandbox(t, Config{Patients: 3})
	b := startSandbox(t, Config{Patients: 3, Policy: PolicySMART})
	tok := clientToken(t, a, ClientPatientAccess)
	if r := get(t, b.FHIRBase()+"/Patient", tok); r.status != http.StatusUnauthorized {
		t.Errorf("token of sandbox A at sandbox B: %d", r.status)
	}
	if a.Info().Policy != PolicyCCRI || b.Info().Policy != PolicySMART {
		t.Errorf("policies %s %s", a.Info().Policy, b.Info().Policy)
	}
	// Same seed, same data.
	if pa, pb := a.data.patients[2].data.(*patientData), b.data.patients[2].data.(*patientData); pa.nhs != pb.nhs || pa.family != pb.family {
		t.Errorf("data differs for the same seed: %v %v", pa.nhs, pb.nhs)
	}
	if pc := generate(2, 3).patients[2].data.(*patientData); pc.nhs == a.data.patients[2].data.(*patientData).nhs {
		t.Errorf("another seed gives the same NHS number")
	}
}

func TestAdvertisedHost(t *testing.T) {
	t.Parallel()
	if got := advertisedHost(&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8080}); got != "127.0.0.1:8080" {
		t.Errorf("loopback: %s", got)
	}
	for _, ip := range []string{"0.0.0.0", "::"} {
		got := advertisedHost(&net.TCPAddr{IP: net.ParseIP(ip), Port: 8080})
		host, port, err := net.SplitHostPort(got)
		if err != nil || port != "8080" || net.ParseIP(host) == nil || net.ParseIP(host).IsUnspecified() {
			t.Errorf("wildcard %s: advertised %q", ip, got)
		}
	}
	s := startSandbox(t, Config{Patients: 2, PublicURL: "http://192.0.2.10:9999"})
	if s.FHIRBase() != "http://192.0.2.10:9999/ccri-fhir/STU3" || s.Info().TokenEndpoint != "http://192.0.2.10:9999/ccri-auth/oauth/token" {
		t.Errorf("PublicURL not used: %+v", s.Info())
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{{Policy: "nope"}, {Patients: -1}, {TokenTTL: -1}, {Addr: "256.0.0.1:0"}} {
		if s, err := Start(cfg); err == nil {
			s.Close()
			t.Errorf("Start(%+v) succeeded", cfg)
		}
	}
}

func TestPanicsBecomeOperationOutcomes(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{Patients: 2})
	h := s.guard(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ccri-fhir/STU3/Patient", nil))
	r := fhirResponse{rec.Code, rec.Header(), rec.Body.Bytes()}
	if r.status != http.StatusInternalServerError {
		t.Fatalf("status %d", r.status)
	}
	if d := outcome(t, r); !strings.Contains(d, "boom") {
		t.Errorf("diagnostics %q", d)
	}
}

func TestOversizedBodyIsRejected(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{Patients: 2})
	c := clientInfo(t, s, ClientPatientAccess)
	form := url.Values{"grant_type": {"client_credentials"}, "padding": {strings.Repeat("x", 2<<20)}}
	tr := postToken(t, s, form, c.ClientID, c.ClientSecret)
	if tr.status == http.StatusOK || tr.AccessToken != "" {
		t.Errorf("2 MB token request: status %d", tr.status)
	}
}

func TestUnknownPathsAnswerInJSON(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{Patients: 2})
	root := strings.TrimSuffix(s.FHIRBase(), "/ccri-fhir/STU3")
	for _, u := range []string{root + "/", root + "/nothing", s.Info().Issuer + "/nothing"} {
		r := get(t, u, "")
		if r.status != http.StatusNotFound || !json.Valid(r.body) {
			t.Errorf("%s: %d %s", u, r.status, r.body)
		}
	}
}

func TestLoginPageIsPlainHTML(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{Patients: 2})
	cb := newCallback(t)
	cfg := desktopConfig(s, cb.redirectURI(), "user/Patient.read", "offline_access")
	authURL := cfg.AuthCodeURL("state-12345678", oauth2S256(t))
	r := get(t, authURL, "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("login page: %d %q", r.status, r.header.Get("Content-Type"))
	}
	page := string(r.body)
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("login page uses JavaScript")
	}
	for _, u := range s.Info().Users {
		if !strings.Contains(page, `value="`+u.Username+`"`) {
			t.Errorf("user %s not offered", u.Username)
		}
	}
	for _, want := range []string{`name="grant_scope" value="user/Patient.read" checked`, `value="approve"`, `value="deny"`, `name="password"`} {
		if !strings.Contains(page, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
}
