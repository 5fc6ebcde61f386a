package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Discovery is what Discover learnt about how a FHIR server is secured: its
// OAuth endpoints, what its authorization server says it supports, its FHIR
// version, and every step taken to learn it.
type Discovery struct {
	FHIRBase string

	Issuer                string
	AuthorizationEndpoint string
	TokenEndpoint         string
	RevocationEndpoint    string
	IntrospectionEndpoint string
	RegistrationEndpoint  string
	ManagementEndpoint    string
	JWKSURI               string

	// The server's stated support; nil when it did not say.
	GrantTypes    []string // grant_types_supported
	PKCEMethods   []string // code_challenge_methods_supported
	AuthMethods   []string // token_endpoint_auth_methods_supported
	Scopes        []string // scopes_supported
	ResponseTypes []string // response_types_supported
	Capabilities  []string // SMART capabilities
	// IssParameterSupported is authorization_response_iss_parameter_supported
	// (RFC 9207): authorization responses must then carry a matching iss.
	IssParameterSupported bool

	FHIRVersion string // the CapabilityStatement's fhirVersion, e.g. "3.0.1"
	FHIRRelease string // STU3, R4, ... derived from FHIRVersion
	Software    string // the CapabilityStatement's software or implementation
	// LooksLikeCCRI says whether the CapabilityStatement names the Care
	// Connect Reference Implementation; CCRIEvidence says where.
	LooksLikeCCRI bool
	CCRIEvidence  string

	Steps []DiscoveryStep
}

// DiscoveryStep reports one request Discover made: what was asked, what the
// server answered and what was found in it, or why it was of no use.
type DiscoveryStep struct {
	Name    string   // e.g. "SMART configuration"
	URL     string   // the URL requested
	Status  int      // the HTTP status; 0 when there was no answer
	OK      bool     // the document was usable
	Skipped bool     // no request was made; Problem says why
	Found   []string // what it contributed, one item per fact
	Problem string   // why it was of no use
}

// String describes the step on one line.
func (s DiscoveryStep) String() string {
	var b strings.Builder
	b.WriteString(s.Name)
	if s.URL != "" {
		b.WriteString(": GET " + s.URL)
	}
	if s.Status != 0 {
		fmt.Fprintf(&b, " → HTTP %d", s.Status)
	}
	switch {
	case s.Skipped:
		b.WriteString(" — skipped: " + s.Problem)
	case !s.OK:
		b.WriteString(" — " + s.Problem)
	case len(s.Found) == 0:
		b.WriteString(" — nothing new")
	default:
		b.WriteString(" — found " + strings.Join(s.Found, "; "))
	}
	return b.String()
}

// Discoverer finds a FHIR server's OAuth endpoints. The zero value is ready
// to use.
type Discoverer struct {
	// HTTPClient makes the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Issuer, optional, is where to look for the authorization server's
	// metadata when the SMART configuration does not name an issuer.
	Issuer string
	// StepTimeout bounds each request; 0 means 15 seconds.
	StepTimeout time.Duration
}

// Discover finds the OAuth endpoints of the FHIR server at fhirBase with
// client (nil means http.DefaultClient). See Discoverer.Discover.
func Discover(ctx context.Context, client *http.Client, fhirBase string) (*Discovery, error) {
	return Discoverer{HTTPClient: client}.Discover(ctx, fhirBase)
}

// The extension and document names discovery looks for.
const (
	oauthURIsExtension    = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
	capabilitiesExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/capabilities"
	smartConfigPath       = "/.well-known/smart-configuration"
	openIDConfigPath      = "/.well-known/openid-configuration"
	oauthASConfigPath     = "/.well-known/oauth-authorization-server"
	jsonAccept            = "application/json"
	fhirJSONAccept        = "application/fhir+json, application/json+fhir;q=0.9, application/json;q=0.8"
)

// Discover finds the OAuth endpoints of the FHIR server at fhirBase. It tries,
// in order, and reports in Steps:
//
//  1. <base>/.well-known/smart-configuration;
//  2. the issuer's /.well-known/openid-configuration, then its RFC 8414
//     /.well-known/oauth-authorization-server (the issuer comes from step 1
//     or Discoverer.Issuer);
//  3. the CapabilityStatement at <base>/metadata: the SMART oauth-uris
//     extension on rest.security (STU3 and R4 shapes), its FHIR version and
//     software.
//
// Earlier steps win; later ones fill gaps. Each body is bounded by
// MaxDocumentSize and each request by StepTimeout. Discover returns the
// Discovery together with an error wrapping ErrNoEndpoints when no token
// endpoint was found, or the context's error (as ErrCancelled or
// ErrTimedOut) when ctx ends.
func (dc Discoverer) Discover(ctx context.Context, fhirBase string) (*Discovery, error) {
	base, err := normaliseBase(fhirBase)
	if err != nil {
		return nil, err
	}
	d := &Discovery{FHIRBase: base}
	run := func(step DiscoveryStep, accept string, use func(*DiscoveryStep, map[string]any)) (DiscoveryStep, error) {
		doc, err := dc.fetch(ctx, &step, accept)
		if err != nil {
			step.Problem = err.Error()
			d.Steps = append(d.Steps, step)
			return step, err
		}
		if doc != nil {
			use(&step, doc)
		}
		d.Steps = append(d.Steps, step)
		return step, nil
	}

	// 1. SMART configuration.
	if _, err := run(DiscoveryStep{Name: "SMART configuration", URL: base + smartConfigPath}, jsonAccept, d.useSMART); err != nil {
		return d, err
	}

	// 2. The authorization server's metadata.
	issuer := d.Issuer
	if issuer == "" {
		issuer = strings.TrimRight(dc.Issuer, "/")
	}
	if issuer == "" {
		d.Steps = append(d.Steps, DiscoveryStep{Name: "Authorization server metadata", Skipped: true,
			Problem: "no issuer known (the SMART configuration named none)"})
	} else {
		use := func(s *DiscoveryStep, doc map[string]any) { d.useASMetadata(s, doc, issuer) }
		step, err := run(DiscoveryStep{Name: "OpenID configuration", URL: issuer + openIDConfigPath}, jsonAccept, use)
		if err != nil {
			return d, err
		}
		if !step.OK && step.Status != 0 {
			if u, ok := rfc8414URL(issuer); ok {
				if _, err := run(DiscoveryStep{Name: "OAuth authorization server metadata (RFC 8414)", URL: u}, jsonAccept, use); err != nil {
					return d, err
				}
			}
		}
	}

	// 3. The CapabilityStatement.
	if _, err := run(DiscoveryStep{Name: "CapabilityStatement", URL: base + "/metadata"}, fhirJSONAccept, d.useCapabilityStatement); err != nil {
		return d, err
	}

	if d.TokenEndpoint == "" {
		var why []string
		for _, s := range d.Steps {
			if !s.OK {
				why = append(why, s.Name+": "+s.Problem)
			}
		}
		if len(why) == 0 {
			why = append(why, "the documents found name no token endpoint")
		}
		return d, fmt.Errorf("%w for %s (%s)", ErrNoEndpoints, base, strings.Join(why, "; "))
	}
	return d, nil
}

// fetch runs one step's request. It returns the document when it is a usable
// JSON object, and an error only when ctx itself has ended.
func (dc Discoverer) fetch(ctx context.Context, step *DiscoveryStep, accept string) (map[string]any, error) {
	timeout := dc.StepTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	f, err := getDocument(sctx, dc.HTTPClient, step.URL, accept)
	step.Status = f.status
	if err != nil {
		if ctx.Err() != nil {
			return nil, contextError(ctx.Err())
		}
		if errors.Is(err, context.DeadlineExceeded) {
			step.Problem = fmt.Sprintf("no answer within %s", timeout)
		} else {
			step.Problem = "no usable answer: " + err.Error()
		}
		return nil, nil
	}
	doc, problem := f.document()
	if problem != "" {
		step.Problem = problem
		return nil, nil
	}
	step.OK = true
	return doc, nil
}

// document returns a fetched answer as a JSON object, or says in plain words
// why it is not one. It makes no request: FuzzDiscoveryDocuments drives it
// and the readers of each document (useSMART, useASMetadata,
// useCapabilityStatement) with arbitrary answers.
func (f fetched) document() (map[string]any, string) {
	if p := f.problem(); p != "" {
		return nil, p
	}
	var doc map[string]any
	if err := json.Unmarshal(f.body, &doc); err != nil { // checked by problem; kept for safety
		return nil, "malformed JSON: " + err.Error()
	}
	return doc, ""
}

func normaliseBase(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("the FHIR base %q is not an http(s) URL", raw)
	}
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimRight(u.String(), "/"), nil
}

// rfc8414URL inserts the well-known segment between host and path (RFC 8414
// section 3). It returns false when that is the OpenID URL already tried.
func rfc8414URL(issuer string) (string, bool) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return "", false
	}
	path := strings.TrimRight(u.Path, "/")
	u.Path = oauthASConfigPath + path
	u.RawPath = ""
	return u.String(), true
}

// The endpoint names shared by the SMART configuration and RFC 8414.
var metadataEndpoints = []struct {
	key, label string
	field      func(*Discovery) *string
}{
	{"authorization_endpoint", "authorization endpoint", func(d *Discovery) *string { return &d.AuthorizationEndpoint }},
	{"token_endpoint", "token endpoint", func(d *Discovery) *string { return &d.TokenEndpoint }},
	{"revocation_endpoint", "revocation endpoint", func(d *Discovery) *string { return &d.RevocationEndpoint }},
	{"introspection_endpoint", "introspection endpoint", func(d *Discovery) *string { return &d.IntrospectionEndpoint }},
	{"registration_endpoint", "registration endpoint", func(d *Discovery) *string { return &d.RegistrationEndpoint }},
	{"management_endpoint", "management endpoint", func(d *Discovery) *string { return &d.ManagementEndpoint }},
	{"jwks_uri", "JWKS", func(d *Discovery) *string { return &d.JWKSURI }},
}

var metadataLists = []struct {
	key, label string
	field      func(*Discovery) *[]string
}{
	{"grant_types_supported", "grant types", func(d *Discovery) *[]string { return &d.GrantTypes }},
	{"code_challenge_methods_supported", "PKCE methods", func(d *Discovery) *[]string { return &d.PKCEMethods }},
	{"token_endpoint_auth_methods_supported", "client authentication methods", func(d *Discovery) *[]string { return &d.AuthMethods }},
	{"scopes_supported", "scopes", func(d *Discovery) *[]string { return &d.Scopes }},
	{"response_types_supported", "response types", func(d *Discovery) *[]string { return &d.ResponseTypes }},
	{"capabilities", "SMART capabilities", func(d *Discovery) *[]string { return &d.Capabilities }},
}

// useSMART reads a SMART configuration document.
func (d *Discovery) useSMART(step *DiscoveryStep, doc map[string]any) {
	if iss, ok := doc["issuer"].(string); ok && iss != "" {
		if u, ok := absoluteURL(iss, step.URL); ok {
			d.Issuer = strings.TrimRight(u, "/")
			step.Found = append(step.Found, "issuer "+d.Issuer)
		}
	}
	d.useMetadata(step, doc)
}

// useASMetadata reads an OpenID or RFC 8414 document, which must name the
// issuer it was fetched for.
func (d *Discovery) useASMetadata(step *DiscoveryStep, doc map[string]any, issuer string) {
	named, _ := doc["issuer"].(string)
	if named != "" && strings.TrimRight(named, "/") != issuer {
		step.OK = false
		step.Problem = fmt.Sprintf("the document names issuer %q, not %q, so it is ignored (RFC 8414 section 3.3)", named, issuer)
		return
	}
	if d.Issuer == "" {
		d.Issuer = issuer
		step.Found = append(step.Found, "issuer "+issuer)
	}
	d.useMetadata(step, doc)
}

func (d *Discovery) useMetadata(step *DiscoveryStep, doc map[string]any) {
	for _, e := range metadataEndpoints {
		if v, ok := doc[e.key].(string); ok && v != "" {
			d.setEndpoint(step, e.field(d), e.label, v)
		}
	}
	for _, l := range metadataLists {
		if v := stringList(doc[l.key]); v != nil {
			if f := l.field(d); *f == nil {
				*f = v
				step.Found = append(step.Found, fmt.Sprintf("%s [%s]", l.label, strings.Join(v, " ")))
			}
		}
	}
	if v, ok := doc["authorization_response_iss_parameter_supported"].(bool); ok && v && !d.IssParameterSupported {
		d.IssParameterSupported = true
		step.Found = append(step.Found, "issuer identification in authorization responses (RFC 9207)")
	}
}

// setEndpoint records an endpoint URL unless an earlier step gave one.
func (d *Discovery) setEndpoint(step *DiscoveryStep, field *string, label, raw string) {
	u, ok := absoluteURL(raw, step.URL)
	if !ok {
		step.Found = append(step.Found, fmt.Sprintf("%s %q ignored: not an http(s) URL", label, raw))
		return
	}
	switch *field {
	case "":
		*field = u
		step.Found = append(step.Found, label+" "+u)
	case u:
	default:
		step.Found = append(step.Found, fmt.Sprintf("%s %s (differs from the earlier %s, which is kept)", label, u, *field))
	}
}

// absoluteURL resolves raw against the document's URL and accepts only
// http(s) results.
func absoluteURL(raw, docURL string) (string, bool) {
	ref, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", false
	}
	if !ref.IsAbs() {
		b, err := url.Parse(docURL)
		if err != nil {
			return "", false
		}
		ref = b.ResolveReference(ref)
	}
	if (ref.Scheme != "http" && ref.Scheme != "https") || ref.Host == "" {
		return "", false
	}
	return ref.String(), true
}

// stringList reads a JSON array of strings, tolerating a single string and
// skipping non-strings. It returns nil when there is nothing.
func stringList(v any) []string {
	var out []string
	for _, x := range asList(v) {
		if s, ok := x.(string); ok && strings.TrimSpace(s) != "" {
			out = append(out, strings.TrimSpace(s))
		}
	}
	return out
}

// asList treats a JSON value as a list: arrays as they are, a single object
// or string as a list of one (servers get FHIR's cardinalities wrong).
func asList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		return []any{v}
	}
}

func asObject(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

// useCapabilityStatement reads the CapabilityStatement (STU3 and R4) or
// Conformance (DSTU2).
func (d *Discovery) useCapabilityStatement(step *DiscoveryStep, doc map[string]any) {
	rt := asString(doc["resourceType"])
	if rt != "CapabilityStatement" && rt != "Conformance" {
		step.OK = false
		if rt == "" {
			step.Problem = "the answer is not a FHIR resource"
		} else {
			step.Problem = fmt.Sprintf("the answer is a %s, not a CapabilityStatement", rt)
		}
		return
	}
	if v := asString(doc["fhirVersion"]); v != "" {
		d.FHIRVersion = v
		d.FHIRRelease = FHIRRelease(v)
		step.Found = append(step.Found, fmt.Sprintf("FHIR %s (%s)", v, d.FHIRRelease))
	}
	d.Software, d.LooksLikeCCRI, d.CCRIEvidence = describeSoftware(doc)
	if d.Software != "" {
		step.Found = append(step.Found, "software "+d.Software)
	}
	if d.LooksLikeCCRI {
		step.Found = append(step.Found, "looks like the Care Connect Reference Implementation ("+d.CCRIEvidence+")")
	}

	sawExtension := false
	haveCap := make(map[string]bool, len(d.Capabilities))
	for _, c := range d.Capabilities {
		haveCap[c] = true
	}
	for _, r := range asList(doc["rest"]) {
		rest := asObject(r)
		if mode := asString(rest["mode"]); mode != "" && mode != "server" {
			continue
		}
		sec := asObject(rest["security"])
		for _, e := range asList(sec["extension"]) {
			ext := asObject(e)
			switch u := asString(ext["url"]); {
			case sameExtension(u, oauthURIsExtension):
				sawExtension = true
				d.useOAuthURIs(step, ext)
			case sameExtension(u, capabilitiesExtension):
				if c := extensionValue(ext); c != "" && !haveCap[c] {
					haveCap[c] = true
					d.Capabilities = append(d.Capabilities, c)
					step.Found = append(step.Found, "SMART capability "+c)
				}
			}
		}
		if note := describeSecurityServices(sec["service"]); note != "" {
			step.Found = append(step.Found, note)
		}
	}
	if !sawExtension {
		step.Found = append(step.Found, "no SMART oauth-uris extension on rest.security")
	}
}

// sameExtension compares extension URLs, tolerating http/https and a
// trailing slash.
func sameExtension(got, want string) bool {
	norm := func(s string) string {
		s = strings.TrimRight(strings.TrimSpace(s), "/")
		return strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	}
	return got != "" && norm(got) == norm(want)
}

// extensionValue returns an extension's value whatever its value[x] type.
func extensionValue(ext map[string]any) string {
	for _, k := range []string{"valueUri", "valueUrl", "valueString", "valueCode", "valueCanonical"} {
		if v := asString(ext[k]); v != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (d *Discovery) useOAuthURIs(step *DiscoveryStep, ext map[string]any) {
	fields := map[string]struct {
		label string
		field *string
	}{
		"authorize":  {"authorization endpoint", &d.AuthorizationEndpoint},
		"token":      {"token endpoint", &d.TokenEndpoint},
		"register":   {"registration endpoint", &d.RegistrationEndpoint},
		"revoke":     {"revocation endpoint", &d.RevocationEndpoint},
		"manage":     {"management endpoint", &d.ManagementEndpoint},
		"introspect": {"introspection endpoint", &d.IntrospectionEndpoint},
	}
	for _, s := range asList(ext["extension"]) {
		sub := asObject(s)
		name := asString(sub["url"])
		f, ok := fields[name]
		if !ok {
			continue
		}
		if v := extensionValue(sub); v != "" {
			d.setEndpoint(step, f.field, f.label, v)
		}
	}
}

// maxServicesListed bounds how many security services a step names.
const maxServicesListed = 10

// describeSecurityServices says which security services the statement
// names, noting codings that are malformed the way the CCRI's was (the
// service name in system and display, no code).
func describeSecurityServices(v any) string {
	var names []string
	seen := map[string]bool{} // a set: a hostile statement may name thousands
	malformed := false
	for _, s := range asList(v) {
		svc := asObject(s)
		for _, c := range asList(svc["coding"]) {
			coding := asObject(c)
			code, system, display := asString(coding["code"]), asString(coding["system"]), asString(coding["display"])
			name := code
			if name == "" {
				name = firstNonEmpty(display, system)
			}
			if code == "" || (system != "" && !strings.Contains(system, "://")) {
				malformed = true
			}
			if name != "" && !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
		if len(asList(svc["coding"])) == 0 {
			if t := asString(svc["text"]); t != "" {
				names = append(names, t)
			}
		}
	}
	if len(names) == 0 {
		return ""
	}
	if len(names) > maxServicesListed {
		names = append(names[:maxServicesListed:maxServicesListed], fmt.Sprintf("and %d more", len(names)-maxServicesListed))
	}
	s := "security service " + strings.Join(names, ", ")
	if malformed {
		s += " (its coding is malformed; tolerated)"
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// describeSoftware names the server software and says whether it is the
// CCRI.
func describeSoftware(doc map[string]any) (software string, ccri bool, evidence string) {
	sw := asObject(doc["software"])
	impl := asObject(doc["implementation"])
	name, version := asString(sw["name"]), asString(sw["version"])
	software = strings.TrimSpace(name + " " + version)
	if software == "" {
		software = asString(impl["description"])
	}
	candidates := []struct{ where, text string }{
		{"software.name", name},
		{"implementation.description", asString(impl["description"])},
		{"implementation.url", asString(impl["url"])},
		{"name", asString(doc["name"])},
		{"title", asString(doc["title"])},
		{"publisher", asString(doc["publisher"])},
	}
	for _, c := range candidates {
		if looksLikeCCRI(c.text) {
			return software, true, fmt.Sprintf("%s %q", c.where, c.text)
		}
	}
	return software, false, ""
}

func looksLikeCCRI(s string) bool {
	l := strings.ToLower(s)
	l = strings.NewReplacer("-", " ", "_", " ").Replace(l)
	if strings.Contains(l, "reference implementation") &&
		(strings.Contains(l, "care connect") || strings.Contains(l, "careconnect")) {
		return true
	}
	for _, f := range strings.FieldsFunc(l, func(r rune) bool { return !('a' <= r && r <= 'z' || '0' <= r && r <= '9') }) {
		if f == "ccri" {
			return true
		}
	}
	return false
}

// FHIRRelease names the FHIR release of a fhirVersion such as "3.0.1"
// ("STU3"); it returns "" for versions it does not know.
func FHIRRelease(version string) string {
	switch {
	case strings.HasPrefix(version, "1.0"):
		return "DSTU2"
	case strings.HasPrefix(version, "3.0"):
		return "STU3"
	case strings.HasPrefix(version, "4.0"):
		return "R4"
	case strings.HasPrefix(version, "4.3"):
		return "R4B"
	case strings.HasPrefix(version, "5.0"):
		return "R5"
	}
	return ""
}

// ClientAuthFor chooses how a confidential client authenticates at this
// server's token endpoint; see ChooseClientAuth.
func (d *Discovery) ClientAuthFor(fallback ClientAuth) ClientAuth {
	return ChooseClientAuth(d.AuthMethods, fallback)
}

// ClientCredentials returns a client credentials grant for this server: its
// token, revocation and JWKS endpoints, and the client authentication it
// states (fallback otherwise). The caller adds HTTPClient, Params and Now.
func (d *Discovery) ClientCredentials(clientID, secret string, scopes []string, fallback ClientAuth) ClientCredentials {
	return ClientCredentials{
		TokenURL: d.TokenEndpoint, ClientID: clientID, ClientSecret: secret, Scopes: scopes,
		Auth: d.ClientAuthFor(fallback), RevocationURL: d.RevocationEndpoint, JWKSURI: d.JWKSURI,
	}
}

// AuthorizationCode returns an authorization code grant for this server:
// its endpoints, issuer (checked on the redirect when the server supports
// RFC 9207) and client authentication. The caller adds OpenBrowser,
// HTTPClient, Params, Port and Now.
func (d *Discovery) AuthorizationCode(clientID, secret string, scopes []string, fallback ClientAuth) AuthorizationCode {
	return AuthorizationCode{
		AuthURL: d.AuthorizationEndpoint, TokenURL: d.TokenEndpoint, ClientID: clientID, ClientSecret: secret,
		Scopes: scopes, Auth: d.ClientAuthFor(fallback), Issuer: d.Issuer, RequireIssuer: d.IssParameterSupported,
		RevocationURL: d.RevocationEndpoint, JWKSURI: d.JWKSURI,
	}
}

// PasswordGrant returns a (legacy) password grant for this server; see
// PasswordGrant.
func (d *Discovery) PasswordGrant(clientID, secret, username, password string, scopes []string, fallback ClientAuth) PasswordGrant {
	return PasswordGrant{
		TokenURL: d.TokenEndpoint, ClientID: clientID, ClientSecret: secret, Auth: d.ClientAuthFor(fallback),
		Username: username, Password: password, Scopes: scopes,
		RevocationURL: d.RevocationEndpoint, JWKSURI: d.JWKSURI,
	}
}
