package auth

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzDiscoveryDocuments feeds arbitrary answers to the readers of every
// discovery document — the SMART configuration, OpenID / RFC 8414 metadata,
// the CapabilityStatement (its oauth-uris extension, FHIR version, software
// and security services) — and to the JWKS parser, without a network: the
// same code Discover runs on each fetched body. It must never panic, every
// endpoint it records must be an absolute http(s) URL, and every step must
// describe itself.
func FuzzDiscoveryDocuments(f *testing.F) {
	for _, s := range []struct {
		status int
		ctype  string
		body   string
	}{
		{200, "application/json", smartConfig},
		{200, "application/json", openIDConfig},
		{200, "application/fhir+json;charset=UTF-8", ccriMetadata},
		{200, "application/fhir+json", r4Metadata},
		{200, "text/html", "<!DOCTYPE html><html>Sign in</html>"},
		{404, "application/json", `{"error":"not found"}`},
		{200, "application/json", `{"token_endpoint":"javascript:alert(1)","authorization_endpoint":"//evil.example/a","issuer":["x"]}`},
		{200, "application/json", `{"rest":{"security":{"extension":{"url":"http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris","extension":[{"url":"token","valueUri":"/t"}]}}},"resourceType":"CapabilityStatement"}`},
		{200, "application/jwk-set+json", `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"oct","k":"c2VjcmV0"},null,7]}`},
		{200, "", `["token_endpoint"]`},
	} {
		f.Add(s.status, s.ctype, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		if len(body) > MaxDocumentSize {
			return // getDocument never hands on more
		}
		fe := fetched{status: status, contentType: ctype, body: body}
		doc, problem := fe.document()
		if doc == nil && problem == "" {
			t.Fatal("neither a document nor a problem")
		}
		if doc != nil && problem != "" {
			t.Fatalf("a document and the problem %q", problem)
		}
		_, _ = ParseJWKS("https://as.example/jwks", body)
		if doc == nil {
			return
		}
		const fhirBase = "https://fhir.example/base"
		d := &Discovery{FHIRBase: fhirBase}
		steps := []DiscoveryStep{
			{Name: "SMART configuration", URL: fhirBase + smartConfigPath},
			{Name: "OpenID configuration", URL: "https://as.example" + openIDConfigPath},
			{Name: "CapabilityStatement", URL: fhirBase + "/metadata"},
		}
		d.useSMART(&steps[0], doc)
		d.useASMetadata(&steps[1], doc, "https://as.example")
		d.useCapabilityStatement(&steps[2], doc)
		d.Steps = steps
		for name, e := range map[string]string{
			"issuer": d.Issuer, "authorization": d.AuthorizationEndpoint, "token": d.TokenEndpoint,
			"revocation": d.RevocationEndpoint, "introspection": d.IntrospectionEndpoint,
			"registration": d.RegistrationEndpoint, "management": d.ManagementEndpoint, "jwks": d.JWKSURI,
		} {
			if e == "" {
				continue
			}
			u, err := url.Parse(e)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("%s endpoint %q is not an absolute http(s) URL", name, e)
			}
		}
		for _, s := range d.Steps {
			if str := s.String(); !strings.HasPrefix(str, s.Name) {
				t.Fatalf("step renders as %q", str)
			}
		}
		_ = FHIRRelease(d.FHIRVersion)
		_ = d.ClientAuthFor(ClientAuthBasic)
	})
}
