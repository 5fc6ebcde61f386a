package fhirclient

import (
	"bytes"
	"context"
	"fmt"
	"strings"
)

// Capabilities is what a server's CapabilityStatement (or, from DSTU2-era
// servers, Conformance) says: enough to build a search form.
type Capabilities struct {
	FHIRVersion    string  // as the server gives it, e.g. 3.0.1
	Version        Version // VersionUnknown when the client cannot parse it
	Status         string
	Date           string
	Publisher      string
	Kind           string
	Software       Software
	Implementation Implementation
	Formats        []string
	Security       Security
	Resources      []ResourceCapability
	Interactions   []string      // system-level interactions (transaction, search-system, ...)
	SearchParams   []SearchParam // parameters valid for every type
	Operations     []string
	Warnings       []Warning // what is odd about the statement
}

// Software is the server software.
type Software struct {
	Name, Version, ReleaseDate string
}

// Implementation is the server installation.
type Implementation struct {
	Description, URL string
}

// Security is the REST security section.
type Security struct {
	CORS        bool
	Services    []string // e.g. SMART-on-FHIR, OAuth
	Description string
	OAuth       OAuthURIs // from the SMART oauth-uris extension
}

// OAuthURIs are the endpoints of the SMART oauth-uris extension, where the
// CCRI advertised its authorization server.
type OAuthURIs struct {
	Authorize, Token, Register, Manage, Introspect, Revoke string
}

// ResourceCapability is what the server supports for one resource type.
type ResourceCapability struct {
	Type              string
	Profile           string
	SupportedProfiles []string
	Documentation     string
	Interactions      []string // read, vread, search-type, ...
	Versioning        string
	SearchParams      []SearchParam
	SearchInclude     []string
	SearchRevInclude  []string
}

// SearchParam is a search parameter the server supports.
type SearchParam struct {
	Name          string
	Type          string // string, token, date, reference, ...
	Documentation string
	Definition    string
}

// OAuthURIsExtension is the SMART extension listing OAuth endpoints.
const OAuthURIsExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"

// Capabilities reads the server's CapabilityStatement (GET [base]/metadata)
// and sets the FHIR version the client parses entries as.
func (c *Client) Capabilities(ctx context.Context) (*Capabilities, error) {
	r, root, err := c.getResource(ctx, "metadata", false)
	if err != nil {
		return nil, fmt.Errorf("read capabilities: %w", err)
	}
	if rt := root.str("resourceType"); rt == "OperationOutcome" {
		return nil, fmt.Errorf("read capabilities: %w", outcomeError(r, root, "a CapabilityStatement"))
	}
	caps, err := capabilitiesFrom(root)
	if err != nil {
		return nil, fmt.Errorf("read capabilities: %w", notFHIR(r, nil, err.Error()))
	}
	c.setVersion(caps.FHIRVersion, caps.Version)
	return caps, nil
}

// DecodeCapabilities decodes a CapabilityStatement (or Conformance).
// Malformed parts (a single object where an array belongs, for one) are
// read as well as they can be and noted in Warnings.
func DecodeCapabilities(data []byte) (*Capabilities, error) {
	root, err := parseJSON(string(bytes.TrimPrefix(data, utf8BOM)))
	if err != nil {
		return nil, fmt.Errorf("decode capabilities: %w", err)
	}
	caps, err := capabilitiesFrom(&root)
	if err != nil {
		return nil, fmt.Errorf("decode capabilities: %w", err)
	}
	return caps, nil
}

// texts collects the strings of a member that should be an array of
// strings.
func texts(n *node) []string {
	var out []string
	n.each(func(x *node) {
		if t := x.text(); t != "" {
			out = append(out, t)
		}
	})
	return out
}

// refText reads a canonical URL (R4) or a Reference to one (STU3).
func refText(n *node) string {
	if n == nil {
		return ""
	}
	if t := n.text(); t != "" {
		return t
	}
	return n.str("reference")
}

func capabilitiesFrom(root *node) (*Capabilities, error) {
	if root.k != kObject {
		return nil, fmt.Errorf("the JSON is not an object")
	}
	switch rt := root.str("resourceType"); rt {
	case "CapabilityStatement", "Conformance":
	default:
		return nil, fmt.Errorf("got resourceType %q, not a CapabilityStatement", rt)
	}
	c := &Capabilities{
		FHIRVersion: root.str("fhirVersion"),
		Status:      root.str("status"),
		Date:        root.str("date"),
		Publisher:   root.str("publisher"),
		Kind:        root.str("kind"),
		Formats:     texts(root.get("format")),
	}
	warn := func(loc, msg string) {
		c.Warnings = append(c.Warnings, Warning{Source: SourceDecoder, Severity: "warning", Location: loc, Message: msg})
	}
	shape := func(n *node, loc string) {
		if n != nil && n.k != kArray && n.k != kNull {
			warn(loc, "a single value where the specification has an array")
		}
	}
	if v, err := VersionOf(c.FHIRVersion); err == nil {
		c.Version = v
	} else {
		warn("CapabilityStatement.fhirVersion", err.Error()+"; entries will be parsed as STU3")
	}
	sw := root.get("software")
	c.Software = Software{Name: sw.str("name"), Version: sw.str("version"), ReleaseDate: sw.str("releaseDate")}
	im := root.get("implementation")
	c.Implementation = Implementation{Description: im.str("description"), URL: im.str("url")}

	rests := root.get("rest")
	shape(rests, "CapabilityStatement.rest")
	var rest *node
	rests.each(func(r *node) {
		if rest == nil || (rest.str("mode") != "server" && r.str("mode") == "server") {
			rest = r
		}
	})
	if rest == nil {
		warn("CapabilityStatement.rest", "the statement lists no REST interface")
		return c, nil
	}
	if sec := rest.get("security"); sec != nil {
		c.Security.CORS = sec.get("cors").text() == "true"
		c.Security.Description = sec.str("description")
		sec.get("service").each(func(s *node) {
			cod := s.get("coding")
			shape(cod, "CapabilityStatement.rest.security.service.coding")
			found := false
			cod.each(func(cd *node) {
				if code := cd.str("code"); code != "" {
					c.Security.Services = append(c.Security.Services, code)
					found = true
				} else if d := cd.str("display"); d != "" {
					c.Security.Services = append(c.Security.Services, d)
					found = true
				}
			})
			if !found {
				if t := s.str("text"); t != "" {
					c.Security.Services = append(c.Security.Services, t)
				} else if code := s.str("code"); code != "" { // a Coding where a CodeableConcept belongs
					c.Security.Services = append(c.Security.Services, code)
					warn("CapabilityStatement.rest.security.service", "a Coding where the specification has a CodeableConcept")
				}
			}
		})
		sec.get("extension").each(func(ext *node) {
			if ext.str("url") != OAuthURIsExtension {
				return
			}
			ext.get("extension").each(func(x *node) {
				v := ""
				for i := range x.kids {
					if k := x.kids[i].key; strings.HasPrefix(k, "value") {
						v = x.kids[i].text()
					}
				}
				switch x.str("url") {
				case "authorize":
					c.Security.OAuth.Authorize = v
				case "token":
					c.Security.OAuth.Token = v
				case "register":
					c.Security.OAuth.Register = v
				case "manage":
					c.Security.OAuth.Manage = v
				case "introspect":
					c.Security.OAuth.Introspect = v
				case "revoke":
					c.Security.OAuth.Revoke = v
				}
			})
		})
	}
	rest.get("interaction").each(func(i *node) {
		if code := i.str("code"); code != "" {
			c.Interactions = append(c.Interactions, code)
		}
	})
	c.SearchParams = searchParams(rest.get("searchParam"))
	rest.get("operation").each(func(o *node) {
		if name := o.str("name"); name != "" {
			c.Operations = append(c.Operations, name)
		}
	})
	resources := rest.get("resource")
	shape(resources, "CapabilityStatement.rest.resource")
	resources.each(func(r *node) {
		rc := ResourceCapability{
			Type:              r.str("type"),
			Profile:           refText(r.get("profile")),
			SupportedProfiles: texts(r.get("supportedProfile")),
			Documentation:     r.str("documentation"),
			Versioning:        r.str("versioning"),
			SearchParams:      searchParams(r.get("searchParam")),
			SearchInclude:     texts(r.get("searchInclude")),
			SearchRevInclude:  texts(r.get("searchRevInclude")),
		}
		r.get("interaction").each(func(i *node) {
			if code := i.str("code"); code != "" {
				rc.Interactions = append(rc.Interactions, code)
			}
		})
		if rc.Type == "" {
			warn("CapabilityStatement.rest.resource", "a resource entry without a type")
			return
		}
		c.Resources = append(c.Resources, rc)
	})
	return c, nil
}

func searchParams(n *node) []SearchParam {
	var out []SearchParam
	n.each(func(p *node) {
		if name := p.str("name"); name != "" {
			out = append(out, SearchParam{Name: name, Type: p.str("type"),
				Documentation: p.str("documentation"), Definition: refText(p.get("definition"))})
		}
	})
	return out
}

// Resource returns what the server supports for a resource type.
func (c *Capabilities) Resource(resourceType string) (*ResourceCapability, bool) {
	for i := range c.Resources {
		if c.Resources[i].Type == resourceType {
			return &c.Resources[i], true
		}
	}
	return nil, false
}

// ResourceTypes lists the resource types the server serves, in its order.
func (c *Capabilities) ResourceTypes() []string {
	out := make([]string, 0, len(c.Resources))
	for _, r := range c.Resources {
		out = append(out, r.Type)
	}
	return out
}

// Supports reports whether the server allows an interaction (read,
// search-type, ...) on the type.
func (r *ResourceCapability) Supports(interaction string) bool {
	for _, i := range r.Interactions {
		if i == interaction {
			return true
		}
	}
	return false
}

// SearchParam returns the type's search parameter called name.
func (r *ResourceCapability) SearchParam(name string) (SearchParam, bool) {
	for _, p := range r.SearchParams {
		if p.Name == name {
			return p, true
		}
	}
	return SearchParam{}, false
}
