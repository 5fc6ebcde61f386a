package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// doc is one canned answer of a discovery stub; "{root}" in body becomes
// the stub's URL.
type doc struct {
	status int
	ctype  string
	body   string
	block  bool // never answer (until the client gives up)
}

func docServer(t *testing.T, routes map[string]doc) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := routes[r.URL.Path]
		if !ok {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("<html><body>Whitelabel Error Page</body></html>"))
			return
		}
		if d.block {
			<-r.Context().Done()
			return
		}
		if d.ctype == "" {
			d.ctype = "application/json"
		}
		if d.status == 0 {
			d.status = http.StatusOK
		}
		w.Header().Set("Content-Type", d.ctype)
		w.WriteHeader(d.status)
		_, _ = w.Write([]byte(strings.ReplaceAll(d.body, "{root}", srv.URL)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

const fhirBasePath = "/fhir/STU3"

// ccriMetadata is shaped like the CCRI's STU3 CapabilityStatement: the
// oauth-uris extension, and a security service coding with the service name
// in system and display and no code.
const ccriMetadata = `{
  "resourceType": "CapabilityStatement",
  "status": "active",
  "fhirVersion": "3.0.1",
  "software": {"name": "HAPI FHIR Server", "version": "3.4.0"},
  "implementation": {"description": "Care Connect Reference Implementation"},
  "rest": [{
    "mode": "server",
    "security": {
      "service": [{"coding": [{"system": "SMART-on-FHIR", "display": "SMART-on-FHIR"}]}],
      "extension": [{
        "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
        "extension": [
          {"url": "authorize", "valueUri": "{root}/ccri-auth/authorize"},
          {"url": "register", "valueUri": "{root}/ccri-auth/register"},
          {"url": "token", "valueUri": "{root}/ccri-auth/token"}
        ]
      }]
    }
  }]
}`

// r4Metadata is an R4 statement with single objects where arrays belong
// and valueUrl instead of valueUri.
const r4Metadata = `{
  "resourceType": "CapabilityStatement",
  "fhirVersion": "4.0.1",
  "software": {"name": "Some FHIR Server"},
  "rest": [{"mode": "client"}, {
    "mode": "server",
    "security": {
      "service": {"coding": {"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}},
      "extension": [
        {"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
         "extension": [
          {"url": "authorize", "valueUrl": "{root}/auth/authorize"},
          {"url": "token", "valueUri": "/auth/token"},
          {"url": "revoke", "valueUri": "{root}/auth/revoke"},
          {"url": "manage", "valueUri": "{root}/auth/manage"},
          {"url": "introspect", "valueUri": "{root}/auth/introspect"}
        ]},
        {"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/capabilities", "valueCode": "launch-standalone"}
      ]
    }
  }]
}`

const smartConfig = `{
  "issuer": "{root}/as",
  "authorization_endpoint": "{root}/as/authorize",
  "token_endpoint": "{root}/as/token",
  "token_endpoint_auth_methods_supported": ["client_secret_post"],
  "grant_types_supported": ["authorization_code", "client_credentials"],
  "code_challenge_methods_supported": ["S256"],
  "scopes_supported": ["openid", "user/*.rs"],
  "capabilities": ["launch-standalone", "client-confidential-symmetric"]
}`

const openIDConfig = `{
  "issuer": "{root}/as",
  "authorization_endpoint": "{root}/as/authorize",
  "token_endpoint": "{root}/as/token",
  "jwks_uri": "{root}/as/jwks",
  "revocation_endpoint": "{root}/as/revoke",
  "introspection_endpoint": "{root}/as/introspect",
  "authorization_response_iss_parameter_supported": true
}`

func TestDiscoverStubs(t *testing.T) {
	type want struct {
		err       error
		authorize string
		token     string
		revoke    string
		jwks      string
		issuer    string
		release   string
		ccri      bool
		iss       bool
		authAuth  []string
		steps     []string // per step: "ok", "skipped" or a fragment of the problem
		found     string   // a fragment of some step's findings
	}
	tests := []struct {
		name    string
		routes  map[string]doc
		timeout time.Duration // the step timeout; 0 means 10 s
		want    want
	}{
		{
			name: "SMART configuration, then the issuer's OpenID configuration, then metadata",
			routes: map[string]doc{
				fhirBasePath + smartConfigPath: {body: smartConfig},
				"/as" + openIDConfigPath:       {body: openIDConfig},
				fhirBasePath + "/metadata":     {ctype: "application/fhir+json", body: r4Metadata},
			},
			want: want{authorize: "/as/authorize", token: "/as/token", revoke: "/as/revoke", jwks: "/as/jwks",
				issuer: "/as", release: "R4", iss: true, authAuth: []string{"client_secret_post"},
				steps: []string{"ok", "ok", "ok"}, found: "differs from the earlier"},
		},
		{
			name: "the CCRI: only the CapabilityStatement, with its malformed coding",
			routes: map[string]doc{
				fhirBasePath + "/metadata": {ctype: "application/fhir+json;charset=UTF-8", body: ccriMetadata},
			},
			want: want{authorize: "/ccri-auth/authorize", token: "/ccri-auth/token", release: "STU3", ccri: true,
				steps: []string{"not found (HTTP 404)", "skipped", "ok"}, found: "coding is malformed; tolerated"},
		},
		{
			name: "R4 shapes: single objects, valueUrl, a relative token URL",
			routes: map[string]doc{
				fhirBasePath + "/metadata": {body: r4Metadata},
			},
			want: want{authorize: "/auth/authorize", token: "/auth/token", revoke: "/auth/revoke", release: "R4",
				steps: []string{"not found", "skipped", "ok"}, found: "SMART capability launch-standalone"},
		},
		{
			name: "HTML login page instead of JSON",
			routes: map[string]doc{
				fhirBasePath + smartConfigPath: {ctype: "text/html", body: "<!DOCTYPE html><html>Sign in</html>"},
				fhirBasePath + "/metadata":     {body: ccriMetadata},
			},
			want: want{token: "/ccri-auth/token", release: "STU3", ccri: true,
				steps: []string{"HTML page, not JSON", "skipped", "ok"}},
		},
		{
			name: "malformed JSON and a 500",
			routes: map[string]doc{
				fhirBasePath + smartConfigPath: {body: `{"token_endpoint": "x",`},
				fhirBasePath + "/metadata":     {status: 500, body: `{"resourceType":"OperationOutcome"}`},
			},
			want: want{err: ErrNoEndpoints, steps: []string{"malformed JSON", "skipped", "HTTP 500"}},
		},
		{
			name:   "nothing anywhere",
			routes: map[string]doc{},
			want:   want{err: ErrNoEndpoints, steps: []string{"not found (HTTP 404)", "skipped", "not found (HTTP 404)"}},
		},
		{
			name: "an OperationOutcome where the CapabilityStatement should be; JSON that is not an object",
			routes: map[string]doc{
				fhirBasePath + smartConfigPath: {body: `["token_endpoint"]`},
				fhirBasePath + "/metadata":     {body: `{"resourceType":"OperationOutcome","issue":[]}`},
			},
			want: want{err: ErrNoEndpoints, steps: []string{"not an object", "skipped", "OperationOutcome, not a CapabilityStatement"}},
		},
		{
			name: "a document over the size limit",
			routes: map[string]doc{
				fhirBasePath + smartConfigPath: {body: `{"x":"` + strings.Repeat("a", MaxDocumentSize) + `"}`},
				fhirBasePath + "/metadata":     {body: ccriMetadata},
			},
			want: want{token: "/ccri-auth/token", release: "STU3", ccri: true,
				steps: []string{"larger than 1024 KiB", "skipped", "ok"}},
		},
		{
			name: "OpenID configuration naming another issuer is ignored; RFC 8414 is tried",
			routes: map[string]doc{
				fhirBasePath + smartConfigPath: {body: `{"issuer":"{root}/as","token_endpoint":"{root}/as/token"}`},
				"/as" + openIDConfigPath:       {body: `{"issuer":"https://evil.example","jwks_uri":"https://evil.example/jwks"}`},
				oauthASConfigPath + "/as":      {body: `{"issuer":"{root}/as","jwks_uri":"{root}/as/jwks"}`},
				fhirBasePath + "/metadata":     {body: r4Metadata},
			},
			want: want{token: "/as/token", jwks: "/as/jwks", issuer: "/as", release: "R4", revoke: "/auth/revoke",
				steps: []string{"ok", "names issuer", "ok", "ok"}},
		},
		{
			name: "a server that never answers one document",
			routes: map[string]doc{
				fhirBasePath + smartConfigPath: {block: true},
				fhirBasePath + "/metadata":     {body: ccriMetadata},
			},
			timeout: 300 * time.Millisecond,
			want: want{token: "/ccri-auth/token", release: "STU3", ccri: true,
				steps: []string{"no answer within", "skipped", "ok"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := docServer(t, tt.routes)
			root := srv.URL
			if tt.timeout == 0 {
				tt.timeout = 10 * time.Second
			}
			d, err := Discoverer{HTTPClient: srv.Client(), StepTimeout: tt.timeout}.Discover(context.Background(), root+fhirBasePath+"/")
			if !errors.Is(err, tt.want.err) || (tt.want.err == nil && err != nil) {
				t.Fatalf("Discover error = %v, want %v", err, tt.want.err)
			}
			if d.FHIRBase != root+fhirBasePath {
				t.Errorf("FHIRBase = %q", d.FHIRBase)
			}
			endpoint := func(name, got, want string) {
				if want != "" {
					want = root + want
				}
				if got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if tt.want.authorize != "" {
				endpoint("authorization endpoint", d.AuthorizationEndpoint, tt.want.authorize)
			}
			endpoint("token endpoint", d.TokenEndpoint, tt.want.token)
			endpoint("revocation endpoint", d.RevocationEndpoint, tt.want.revoke)
			endpoint("JWKS", d.JWKSURI, tt.want.jwks)
			endpoint("issuer", d.Issuer, tt.want.issuer)
			if d.FHIRRelease != tt.want.release || d.LooksLikeCCRI != tt.want.ccri || d.IssParameterSupported != tt.want.iss {
				t.Errorf("release %q ccri %v iss %v, want %q %v %v", d.FHIRRelease, d.LooksLikeCCRI, d.IssParameterSupported,
					tt.want.release, tt.want.ccri, tt.want.iss)
			}
			if tt.want.authAuth != nil && !reflect.DeepEqual(d.AuthMethods, tt.want.authAuth) {
				t.Errorf("AuthMethods = %v", d.AuthMethods)
			}
			if len(d.Steps) != len(tt.want.steps) {
				t.Fatalf("steps:\n%s\nwant %d", stepsText(d), len(tt.want.steps))
			}
			for i, s := range d.Steps {
				w := tt.want.steps[i]
				switch {
				case w == "ok" && !s.OK, w == "skipped" && !s.Skipped,
					w != "ok" && w != "skipped" && (s.OK || !strings.Contains(s.Problem, w)):
					t.Errorf("step %d = %s; want %q", i, s, w)
				}
				if s.URL != "" && !s.Skipped && !strings.HasPrefix(s.URL, root) {
					t.Errorf("step %d URL %q", i, s.URL)
				}
			}
			if tt.want.found != "" && !strings.Contains(stepsText(d), tt.want.found) {
				t.Errorf("no step found %q:\n%s", tt.want.found, stepsText(d))
			}
		})
	}
}

func stepsText(d *Discovery) string {
	var b strings.Builder
	for _, s := range d.Steps {
		b.WriteString(s.String() + "\n")
	}
	return b.String()
}

func TestDiscoverCancelled(t *testing.T) {
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived // the user presses Cancel while the first request is in flight
		cancel()
	}()
	d, err := Discover(ctx, srv.Client(), srv.URL+fhirBasePath)
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Discover error = %v, want ErrCancelled", err)
	}
	if d == nil || len(d.Steps) != 1 {
		t.Errorf("steps on cancel: %+v", d)
	}
}

func TestDiscoverRejectsBadBase(t *testing.T) {
	for _, base := range []string{"", "ftp://x/fhir", "not a url", "/relative"} {
		if _, err := Discover(context.Background(), nil, base); err == nil {
			t.Errorf("Discover(%q) succeeded", base)
		}
	}
}

func TestLooksLikeCCRI(t *testing.T) {
	tests := map[string]bool{
		"Care Connect Reference Implementation": true,
		"careconnect-reference-implementation":  true,
		"CCRI FHIR Server":                      true,
		"Care Connect Explorer sandbox (a stand-in for the Care Connect Reference Implementation)": true,
		"HAPI FHIR Server":               false,
		"Care Connect API":               false,
		"SMART Reference Implementation": false,
		"accrington":                     false,
	}
	for s, want := range tests {
		if got := looksLikeCCRI(s); got != want {
			t.Errorf("looksLikeCCRI(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestFHIRRelease(t *testing.T) {
	for v, want := range map[string]string{"1.0.2": "DSTU2", "3.0.1": "STU3", "3.0.2": "STU3", "4.0.1": "R4", "4.3.0": "R4B", "5.0.0": "R5", "9": ""} {
		if got := FHIRRelease(v); got != want {
			t.Errorf("FHIRRelease(%q) = %q, want %q", v, got, want)
		}
	}
}
