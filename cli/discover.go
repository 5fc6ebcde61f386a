package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/connect"
	"github.com/careconnectexplorer/ccexplorer/profile"
)

const discoverUsage = `Usage: ccexplorer discover URL [--json] [--ca-file PATH]

Reports how the FHIR server at URL advertises its OAuth endpoints: the SMART
configuration, the authorization server's metadata and the
CapabilityStatement's oauth-uris extension, step by step, and what was found.

Exits 0 when the server answered (a server that names no token endpoint may
be open: use grant none), and 3 when it could not be reached or gave no usable
answer.
`

// discoveryJSON is the discovery report as discover --json prints it.
type discoveryJSON struct {
	FHIRBase              string     `json:"fhir_base"`
	FHIRVersion           string     `json:"fhir_version,omitempty"`
	FHIRRelease           string     `json:"fhir_release,omitempty"`
	Software              string     `json:"software,omitempty"`
	LooksLikeCCRI         bool       `json:"looks_like_ccri"`
	CCRIEvidence          string     `json:"ccri_evidence,omitempty"`
	Issuer                string     `json:"issuer,omitempty"`
	AuthorizationEndpoint string     `json:"authorization_endpoint,omitempty"`
	TokenEndpoint         string     `json:"token_endpoint,omitempty"`
	RevocationEndpoint    string     `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint string     `json:"introspection_endpoint,omitempty"`
	RegistrationEndpoint  string     `json:"registration_endpoint,omitempty"`
	ManagementEndpoint    string     `json:"management_endpoint,omitempty"`
	JWKSURI               string     `json:"jwks_uri,omitempty"`
	GrantTypes            []string   `json:"grant_types_supported,omitempty"`
	PKCEMethods           []string   `json:"code_challenge_methods_supported,omitempty"`
	AuthMethods           []string   `json:"token_endpoint_auth_methods_supported,omitempty"`
	Scopes                []string   `json:"scopes_supported,omitempty"`
	Capabilities          []string   `json:"capabilities,omitempty"`
	Policy                string     `json:"policy"`
	PolicyReason          string     `json:"policy_reason"`
	Steps                 []stepJSON `json:"steps"`
	Error                 string     `json:"error,omitempty"`
}

type stepJSON struct {
	Name    string   `json:"name"`
	URL     string   `json:"url,omitempty"`
	Status  int      `json:"status,omitempty"`
	OK      bool     `json:"ok"`
	Skipped bool     `json:"skipped,omitempty"`
	Found   []string `json:"found,omitempty"`
	Problem string   `json:"problem,omitempty"`
}

func runDiscover(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("discover", discoverUsage, env)
	asJSON := fs.Bool("json", false, "print the report as a JSON object")
	caFile := fs.String("ca-file", "", "a PEM `file` of extra CA certificates to trust")
	pos, err := fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	u, err := url.Parse(pos[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("%q is not an http:// or https:// URL", pos[0])
	}
	p := profile.Profile{Name: "discover"}
	if *caFile != "" {
		if p.CACertFile, err = filepath.Abs(*caFile); err != nil {
			return withCode(ExitUsage, err)
		}
	}
	hc, err := connect.HTTPClient(p)
	if err != nil {
		return err
	}
	d, derr := auth.Discover(ctx, hc, pos[0])
	if d == nil {
		if derr == nil {
			derr = errors.New("discovery found nothing")
		}
		if errors.Is(derr, auth.ErrCancelled) || errors.Is(derr, auth.ErrTimedOut) {
			return withCode(ExitServer, derr)
		}
		return withCode(ExitUsage, derr)
	}
	policy, why := auth.ResolvePolicy(auth.PolicyAuto, d)
	out := discoveryJSON{
		FHIRBase: d.FHIRBase, FHIRVersion: d.FHIRVersion, FHIRRelease: d.FHIRRelease, Software: d.Software,
		LooksLikeCCRI: d.LooksLikeCCRI, CCRIEvidence: d.CCRIEvidence, Issuer: d.Issuer,
		AuthorizationEndpoint: d.AuthorizationEndpoint, TokenEndpoint: d.TokenEndpoint,
		RevocationEndpoint: d.RevocationEndpoint, IntrospectionEndpoint: d.IntrospectionEndpoint,
		RegistrationEndpoint: d.RegistrationEndpoint, ManagementEndpoint: d.ManagementEndpoint, JWKSURI: d.JWKSURI,
		GrantTypes: d.GrantTypes, PKCEMethods: d.PKCEMethods, AuthMethods: d.AuthMethods, Scopes: d.Scopes,
		Capabilities: d.Capabilities, Policy: string(policy), PolicyReason: why, Steps: []stepJSON{},
	}
	for _, s := range d.Steps {
		out.Steps = append(out.Steps, stepJSON{Name: s.Name, URL: s.URL, Status: s.Status, OK: s.OK,
			Skipped: s.Skipped, Found: s.Found, Problem: s.Problem})
	}
	if derr != nil {
		out.Error = derr.Error()
	}
	if *asJSON {
		err = writeJSON(env.Stdout, out)
	} else {
		err = printDiscovery(env.Stdout, d, out)
	}
	if err != nil {
		return err
	}
	switch {
	case derr == nil:
		return nil
	case errors.Is(derr, auth.ErrNoEndpoints) && capabilityOK(d):
		fmt.Fprintln(env.Stderr, "note: the server names no OAuth token endpoint; it may be open (a profile with grant none), or need --token-url")
		return nil
	}
	return withCode(ExitServer, derr)
}

// capabilityOK reports whether the CapabilityStatement step succeeded: the
// server is a FHIR server that answered.
func capabilityOK(d *auth.Discovery) bool {
	for _, s := range d.Steps {
		if s.Name == "CapabilityStatement" && s.OK {
			return true
		}
	}
	return false
}

func printDiscovery(w io.Writer, d *auth.Discovery, out discoveryJSON) error {
	var kv [][2]string
	add := func(k, v string) {
		if v != "" {
			kv = append(kv, [2]string{k, v})
		}
	}
	list := func(k string, vs []string) { add(k, strings.Join(vs, " ")) }
	add("FHIR base", d.FHIRBase)
	version := d.FHIRVersion
	if d.FHIRRelease != "" {
		version += " (" + d.FHIRRelease + ")"
	}
	add("FHIR version", version)
	add("Software", d.Software)
	if d.LooksLikeCCRI {
		add("Looks like the CCRI", "yes: "+d.CCRIEvidence)
	}
	add("Issuer", d.Issuer)
	add("Authorization endpoint", d.AuthorizationEndpoint)
	add("Token endpoint", firstOf(d.TokenEndpoint, "none found"))
	add("Revocation endpoint", d.RevocationEndpoint)
	add("Introspection endpoint", d.IntrospectionEndpoint)
	add("Registration endpoint", d.RegistrationEndpoint)
	add("Management endpoint", d.ManagementEndpoint)
	add("JWKS", d.JWKSURI)
	list("Grant types", d.GrantTypes)
	list("PKCE methods", d.PKCEMethods)
	list("Client authentication", d.AuthMethods)
	list("Scopes supported", d.Scopes)
	list("SMART capabilities", d.Capabilities)
	add("Access policy (auto)", out.Policy+": "+out.PolicyReason)
	if err := writeKeyValues(w, kv); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nSteps:")
	for i, s := range d.Steps {
		fmt.Fprintf(w, "  %d. %s\n", i+1, oneLine.Replace(s.String()))
	}
	return nil
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
