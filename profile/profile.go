package profile

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Grant is the OAuth2 grant a profile uses to obtain an access token.
type Grant string

// The grants a profile can use.
const (
	// GrantNone sends requests without a token (open servers).
	GrantNone Grant = "none"
	// GrantClientCredentials is the client credentials grant (system access).
	GrantClientCredentials Grant = "client_credentials"
	// GrantAuthorizationCode is the authorization code grant with PKCE and a
	// loopback redirect (user login in the browser).
	GrantAuthorizationCode Grant = "authorization_code"
	// GrantPassword is the resource owner password grant (test servers only).
	GrantPassword Grant = "password"
)

// Grants lists every grant, in the order a UI offers them.
var Grants = []Grant{GrantNone, GrantClientCredentials, GrantAuthorizationCode, GrantPassword}

// String returns a short human-readable name of the grant.
func (g Grant) String() string {
	switch g {
	case GrantNone:
		return "none"
	case GrantClientCredentials:
		return "client credentials"
	case GrantAuthorizationCode:
		return "authorization code + PKCE"
	case GrantPassword:
		return "password"
	}
	return string(g)
}

// ClientAuth is how a confidential client authenticates at the token endpoint.
type ClientAuth string

// The client authentication methods.
const (
	// ClientAuthBasic sends client id and secret in an HTTP Basic header
	// (client_secret_basic). It is the default.
	ClientAuthBasic ClientAuth = "basic"
	// ClientAuthBody sends client id and secret as form fields
	// (client_secret_post).
	ClientAuthBody ClientAuth = "body"
)

// Policy chooses how the app maps a token's scopes to readable resources.
type Policy string

// The access policies.
const (
	// PolicyAuto picks SMART or CCRI from what the server advertises. It is
	// the default.
	PolicyAuto Policy = "auto"
	// PolicySMART reads scopes as SMART on FHIR v1 scopes.
	PolicySMART Policy = "smart"
	// PolicyCCRI reads scopes with the Care Connect Reference
	// Implementation's irregular scope table.
	PolicyCCRI Policy = "ccri"
)

// Profile is one saved server profile: a FHIR server and an OAuth2 client on
// it. It has no secret fields at all; secrets live in the keyring (see
// [Secrets]) under the profile's name.
type Profile struct {
	// Name identifies the profile; it is unique within a Store.
	Name string `json:"name"`
	// BaseURL is the FHIR base URL, for example https://example.org/STU3.
	// It is ignored for sandbox profiles (SandboxClient set).
	BaseURL string `json:"base_url,omitempty"`
	// Grant is the OAuth2 grant used to obtain a token.
	Grant Grant `json:"grant"`
	// ClientID is the OAuth2 client id (required unless Grant is GrantNone).
	ClientID string `json:"client_id,omitempty"`
	// ClientAuth is how the client authenticates; empty means ClientAuthBasic.
	ClientAuth ClientAuth `json:"client_auth,omitempty"`
	// Scopes are the requested scopes; none means "whatever the server grants".
	Scopes []string `json:"scopes,omitempty"`
	// AuthorizeURL overrides the discovered authorization endpoint.
	AuthorizeURL string `json:"authorize_url,omitempty"`
	// TokenURL overrides the discovered token endpoint.
	TokenURL string `json:"token_url,omitempty"`
	// RevokeURL overrides the discovered revocation endpoint.
	RevokeURL string `json:"revoke_url,omitempty"`
	// RedirectPort pins the loopback redirect port of the authorization code
	// grant (for servers that register an exact redirect URI); 0 picks a
	// free port.
	RedirectPort int `json:"redirect_port,omitempty"`
	// Audience is sent as the SMART "aud" parameter and the RFC 8707
	// "resource" parameter when set.
	Audience string `json:"audience,omitempty"`
	// Policy chooses how scopes map to readable resources; empty means
	// PolicyAuto.
	Policy Policy `json:"policy,omitempty"`
	// CACertFile is the absolute path of a PEM file with extra trusted CA
	// certificates (internal NHS or supplier CAs). See [Profile.CertPool].
	CACertFile string `json:"ca_cert_file,omitempty"`
	// Username is the resource owner's user name for the password grant.
	Username string `json:"username,omitempty"`
	// RememberPassword asks the app to keep the password grant's password in
	// the keyring.
	RememberPassword bool `json:"remember_password,omitempty"`
	// AllowInsecureHTTP allows plain http to a host that is not loopback.
	// Such a profile carries a warning wherever it appears (see Warnings).
	AllowInsecureHTTP bool `json:"allow_insecure_http,omitempty"`
	// Notes is free text for the user.
	Notes string `json:"notes,omitempty"`
	// Builtin marks a built-in sandbox profile: always present, read-only
	// except for Notes.
	Builtin bool `json:"builtin,omitempty"`
	// SandboxClient names the demo client of the app's in-process sandbox.
	// When set, the app fills in the base URL (and the client secret) from
	// the running sandbox, and BaseURL is ignored.
	SandboxClient string `json:"sandbox_client,omitempty"`
}

// Field names used in FieldError.Field; they are the profile's JSON names.
const (
	FieldName          = "name"
	FieldBaseURL       = "base_url"
	FieldGrant         = "grant"
	FieldClientID      = "client_id"
	FieldClientAuth    = "client_auth"
	FieldScopes        = "scopes"
	FieldAuthorizeURL  = "authorize_url"
	FieldTokenURL      = "token_url"
	FieldRevokeURL     = "revoke_url"
	FieldRedirectPort  = "redirect_port"
	FieldAudience      = "audience"
	FieldPolicy        = "policy"
	FieldCACertFile    = "ca_cert_file"
	FieldUsername      = "username"
	FieldSandboxClient = "sandbox_client"
)

// MaxNameLength is the longest profile name allowed, in characters.
const MaxNameLength = 100

// FieldError is one problem with one field of a profile.
type FieldError struct {
	// Field is the JSON name of the field, one of the Field... constants.
	Field string
	// Message says what is wrong, in plain words, without the field name.
	Message string
}

// Error returns "field: message".
func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError lists every problem found in a profile, so a form can put
// each message next to its field.
type ValidationError struct {
	// Profile is the profile's name as given (possibly empty).
	Profile string
	// Problems holds one entry per problem, in field order.
	Problems []FieldError
}

// Error joins all problems into one line.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Error()
	}
	name := e.Profile
	if name == "" {
		name = "(unnamed)"
	}
	return fmt.Sprintf("profile %q is not valid: %s", name, strings.Join(parts, "; "))
}

// Field returns the messages for one field joined by "; ", or "" when the
// field has no problem.
func (e *ValidationError) Field(field string) string {
	var msgs []string
	for _, p := range e.Problems {
		if p.Field == field {
			msgs = append(msgs, p.Message)
		}
	}
	return strings.Join(msgs, "; ")
}

// Validate checks the profile and returns a *ValidationError listing every
// problem, or nil. Leading and trailing spaces are ignored (the Store trims
// them), empty ClientAuth means basic and empty Policy means auto. Validate
// does no I/O: a missing CA file is reported by [Profile.CertPool].
func (p Profile) Validate() error {
	p = p.normalized()
	var probs []FieldError
	add := func(field, format string, args ...any) {
		probs = append(probs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}

	switch {
	case p.Name == "":
		add(FieldName, "a name is required")
	case utf8.RuneCountInString(p.Name) > MaxNameLength:
		add(FieldName, "must be at most %d characters", MaxNameLength)
	case !utf8.ValidString(p.Name) || strings.IndexFunc(p.Name, unicode.IsControl) >= 0:
		add(FieldName, "must not contain control characters")
	}

	if p.SandboxClient == "" {
		if p.BaseURL == "" {
			add(FieldBaseURL, "a FHIR base URL is required, for example https://example.org/fhir/STU3")
		} else if msg := checkURL(p.BaseURL, p.AllowInsecureHTTP); msg != "" {
			add(FieldBaseURL, "%s", msg)
		}
	} else if strings.ContainsFunc(p.SandboxClient, unicode.IsSpace) {
		add(FieldSandboxClient, "must not contain spaces")
	}

	if !slices.Contains(Grants, p.Grant) {
		if p.Grant == "" {
			add(FieldGrant, "choose a grant: none, client_credentials, authorization_code or password")
		} else {
			add(FieldGrant, "unknown grant %q; use none, client_credentials, authorization_code or password", string(p.Grant))
		}
	}
	if p.Grant != GrantNone && p.Grant != "" && p.ClientID == "" {
		add(FieldClientID, "a client id is required for the %s grant", p.Grant)
	}
	if strings.IndexFunc(p.ClientID, unicode.IsControl) >= 0 {
		add(FieldClientID, "must not contain control characters")
	}
	if p.ClientAuth != ClientAuthBasic && p.ClientAuth != ClientAuthBody {
		add(FieldClientAuth, "unknown client authentication %q; use basic or body", string(p.ClientAuth))
	}
	for _, s := range p.Scopes {
		if strings.ContainsAny(s, "\"\\") || strings.IndexFunc(s, unicode.IsControl) >= 0 {
			add(FieldScopes, "scope %q contains a character OAuth2 does not allow", s)
		}
	}

	for _, e := range []struct{ field, value string }{
		{FieldAuthorizeURL, p.AuthorizeURL},
		{FieldTokenURL, p.TokenURL},
		{FieldRevokeURL, p.RevokeURL},
	} {
		if e.value == "" {
			continue
		}
		if msg := checkURL(e.value, p.AllowInsecureHTTP); msg != "" {
			add(e.field, "%s", msg)
		}
	}

	if p.RedirectPort < 0 || p.RedirectPort > 65535 {
		add(FieldRedirectPort, "must be between 1 and 65535, or empty for a free port")
	}
	if strings.IndexFunc(p.Audience, unicode.IsControl) >= 0 {
		add(FieldAudience, "must not contain control characters")
	}
	if p.Policy != PolicyAuto && p.Policy != PolicySMART && p.Policy != PolicyCCRI {
		add(FieldPolicy, "unknown access policy %q; use auto, smart or ccri", string(p.Policy))
	}
	if p.CACertFile != "" && !filepath.IsAbs(p.CACertFile) {
		add(FieldCACertFile, "must be an absolute path to a PEM file")
	}
	if strings.IndexFunc(p.Username, unicode.IsControl) >= 0 {
		add(FieldUsername, "must not contain control characters")
	}

	if len(probs) == 0 {
		return nil
	}
	return &ValidationError{Profile: p.Name, Problems: probs}
}

// checkURL returns a message saying what is wrong with an endpoint URL, or "".
func checkURL(raw string, allowHTTP bool) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "not a valid URL"
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "must be an absolute http:// or https:// URL"
	}
	if u.Host == "" || u.Hostname() == "" {
		return "must name a host"
	}
	if u.User != nil {
		return "must not contain a user name or password; use the client fields"
	}
	if u.RawQuery != "" || u.ForceQuery {
		return "must not have a query (?...)"
	}
	if u.Fragment != "" {
		return "must not have a fragment (#...)"
	}
	if u.Scheme == "http" && !allowHTTP && !isLoopback(u.Hostname()) {
		return "plain http is allowed only for localhost; use https, or allow insecure http for this profile"
	}
	return ""
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Warnings returns warnings to show wherever the profile appears, such as
// plain http to a host that is not loopback. It assumes a valid profile.
func (p Profile) Warnings() []string {
	p = p.normalized()
	var warns []string
	urls := []struct{ what, value string }{
		{"the FHIR server", p.BaseURL},
		{"the authorization endpoint", p.AuthorizeURL},
		{"the token endpoint", p.TokenURL},
		{"the revocation endpoint", p.RevokeURL},
	}
	if p.SandboxClient != "" {
		urls = urls[1:]
	}
	for _, e := range urls {
		u, err := url.Parse(e.value)
		if err != nil || u.Scheme != "http" || isLoopback(u.Hostname()) {
			continue
		}
		warns = append(warns, fmt.Sprintf("Insecure: %s (%s) is reached over plain http; tokens and patient data travel unencrypted.", e.what, u.Host))
	}
	if p.Grant == GrantPassword {
		warns = append(warns, "The password grant is deprecated (OAuth 2.0 Security Best Current Practice); use it only with test servers.")
	}
	return warns
}

// IsSandbox reports whether the profile targets the app's in-process sandbox.
func (p Profile) IsSandbox() bool { return p.SandboxClient != "" }

// normalized returns a copy with spaces trimmed, scopes split on spaces and
// de-duplicated, and defaults filled in for ClientAuth and Policy.
func (p Profile) normalized() Profile {
	for _, s := range []*string{&p.Name, &p.BaseURL, &p.ClientID, &p.AuthorizeURL, &p.TokenURL,
		&p.RevokeURL, &p.Audience, &p.CACertFile, &p.Username, &p.SandboxClient} {
		*s = strings.TrimSpace(*s)
	}
	p.Grant = Grant(strings.TrimSpace(string(p.Grant)))
	p.ClientAuth = ClientAuth(strings.TrimSpace(string(p.ClientAuth)))
	p.Policy = Policy(strings.TrimSpace(string(p.Policy)))
	if p.ClientAuth == "" {
		p.ClientAuth = ClientAuthBasic
	}
	if p.Policy == "" {
		p.Policy = PolicyAuto
	}
	var scopes []string
	for _, s := range p.Scopes {
		for _, f := range strings.Fields(s) {
			if !slices.Contains(scopes, f) {
				scopes = append(scopes, f)
			}
		}
	}
	p.Scopes = scopes
	return p
}

// clone returns a deep copy of the profile.
func (p Profile) clone() Profile {
	p.Scopes = slices.Clone(p.Scopes)
	return p
}

// equal reports whether two profiles are identical.
func (p Profile) equal(q Profile) bool {
	if !slices.Equal(p.Scopes, q.Scopes) {
		return false
	}
	p.Scopes, q.Scopes = nil, nil
	return reflect.DeepEqual(p, q)
}
