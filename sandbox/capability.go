package sandbox

import (
	"net/http"
	"time"
)

// oauthURIsExtension is the SMART extension through which the CCRI advertised its OAuth2 endpoints.
const oauthURIsExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"

// capabilityStatement builds the server's STU3 CapabilityStatement.
func (s *Server) capabilityStatement() obj {
	info := s.Info()
	var resources []any
	for _, typ := range resourceTypes {
		params := []any{obj{"name": paramID, "type": "token", "documentation": "Logical id of the resource"}}
		for _, p := range searchParams[typ] {
			params = append(params, obj{"name": p.name, "type": p.kind.String(), "documentation": p.doc})
		}
		res := obj{
			"type":        typ,
			"interaction": []any{obj{"code": "read"}, obj{"code": "search-type"}},
			"searchParam": params,
		}
		if typ != typeBinary {
			res["profile"] = obj{"reference": profileFor(typ)}
		}
		var inc, rev []any
		for _, d := range includes[typ] {
			inc = append(inc, d.spec)
		}
		for _, d := range revIncludes[typ] {
			rev = append(rev, d.spec)
		}
		if len(inc) > 0 {
			res["searchInclude"] = inc
		}
		if len(rev) > 0 {
			res["searchRevInclude"] = rev
		}
		resources = append(resources, res)
	}
	uri := func(name, u string) obj { return obj{"url": name, "valueUri": u} }
	security := obj{
		"extension": []any{obj{"url": oauthURIsExtension, "extension": []any{
			uri("authorize", info.AuthorizeEndpoint),
			uri("token", info.TokenEndpoint),
			uri("revoke", info.RevocationEndpoint),
			uri("introspect", info.IntrospectionEndpoint),
		}}},
		"cors": true,
		"service": []any{ccText("OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)",
			coding{"http://hl7.org/fhir/restful-security-service", "SMART-on-FHIR", "SMART-on-FHIR"})},
		"description": "Bearer JWT access tokens from " + info.Issuer + " (policy " + s.cfg.Policy + ").",
	}
	return obj{
		"resourceType": "CapabilityStatement",
		"id":           "sandbox",
		"name":         "CareConnectExplorerSandbox",
		"status":       "active",
		"date":         time.Unix(dataEpoch, 0).UTC().Format("2006-01-02"),
		"publisher":    "Care Connect Explorer",
		"kind":         "instance",
		"software":     obj{"name": "Care Connect Explorer sandbox (a stand-in for the Care Connect Reference Implementation)"},
		"implementation": obj{
			"description": "Care Connect Explorer sandbox: synthetic STU3 data, read-only",
			"url":         s.fhirBase,
		},
		"fhirVersion":   "3.0.1",
		"acceptUnknown": "no",
		"format":        []any{mediaFHIRJSON, mediaFHIRJSONLegacy, "json"},
		"rest": []any{obj{
			"mode":     "server",
			"security": security,
			"resource": resources,
		}},
	}
}

func (s *Server) serveCapabilityStatement(w http.ResponseWriter, r *http.Request) {
	s.capOnce.Do(func() { s.capJSON, s.capErr = toFHIRJSON(s.capabilityStatement()) })
	if s.capErr != nil {
		s.writeOutcome(w, r, http.StatusInternalServerError, "exception", "CapabilityStatement: "+s.capErr.Error())
		return
	}
	s.writeFHIR(w, r, http.StatusOK, s.capJSON)
}
