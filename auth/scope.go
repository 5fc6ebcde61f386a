package auth

import (
	"strings"

	"golang.org/x/oauth2"
)

// GrantedScopes works out which scopes tok grants: the token response's
// "scope" first, then the access token's "scope" or "scp" claim, then the
// requested scopes (assumed).
func GrantedScopes(tok *oauth2.Token, requested []string) ([]string, ScopeSource) {
	if tok != nil {
		if v, ok := tok.Extra("scope").(string); ok && strings.TrimSpace(v) != "" {
			return ParseScopes(v), ScopesFromResponse
		}
		if claims, err := DecodeJWT(tok.AccessToken); err == nil {
			if scopes := claimScopes(claims.Claims); len(scopes) > 0 {
				return scopes, ScopesFromClaim
			}
		}
	}
	return append([]string(nil), requested...), ScopesRequested
}

// ParseScopes splits a space-separated scope string, dropping empty items and
// duplicates while keeping the order.
func ParseScopes(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Fields(s) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

func claimScopes(claims map[string]any) []string {
	for _, name := range []string{"scope", "scp"} {
		switch v := claims[name].(type) {
		case string:
			if s := ParseScopes(v); len(s) > 0 {
				return s
			}
		case []any:
			var out []string
			for _, x := range v {
				if s, ok := x.(string); ok {
					out = append(out, ParseScopes(s)...)
				}
			}
			if len(out) > 0 {
				return ParseScopes(strings.Join(out, " "))
			}
		}
	}
	return nil
}

// Scope is a parsed SMART resource scope: v1 ("user/Observation.read") or v2
// ("patient/Observation.rs?category=vital-signs").
type Scope struct {
	Raw        string
	Context    string // "patient", "user" or "system"
	Type       string // a resource type, or "*"
	Permission string // as written: "read", "write", "*", or v2 letters such as "rs"
	V2         bool   // Permission is in SMART v2's c/r/u/d/s letters

	Create, Read, Update, Delete, Search bool
	// Query narrows a v2 scope to the resources matching it, e.g.
	// "category=vital-signs"; empty when the scope is not narrowed.
	Query string
}

// ParseScope parses a SMART v1 or v2 resource scope. It returns false for
// anything else (openid, profile, launch, offline_access, malformed scopes).
// A v2 scope's letters must appear in the order c, r, u, d, s, each at most
// once, as SMART App Launch 2 requires.
func ParseScope(raw string) (Scope, bool) {
	sc := Scope{Raw: raw}
	ctx, rest, ok := strings.Cut(raw, "/")
	if !ok {
		return sc, false
	}
	switch ctx {
	case "patient", "user", "system":
		sc.Context = ctx
	default:
		return sc, false
	}
	rest, sc.Query, _ = strings.Cut(rest, "?")
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 {
		return sc, false
	}
	sc.Type, sc.Permission = rest[:dot], rest[dot+1:]
	if !validResourceType(sc.Type) {
		return sc, false
	}
	switch sc.Permission {
	case "read":
		sc.Read, sc.Search = true, true
	case "write":
		sc.Create, sc.Update, sc.Delete = true, true, true
	case "*":
		sc.Create, sc.Read, sc.Update, sc.Delete, sc.Search = true, true, true, true, true
	default:
		if sc.Permission == "" || len(sc.Permission) > 5 {
			return sc, false
		}
		sc.V2 = true
		// The letters must come in this order, each at most once.
		const order = "cruds"
		flags := []*bool{&sc.Create, &sc.Read, &sc.Update, &sc.Delete, &sc.Search}
		last := -1
		for i := 0; i < len(sc.Permission); i++ {
			k := strings.IndexByte(order, sc.Permission[i])
			if k <= last {
				return sc, false
			}
			*flags[k] = true
			last = k
		}
	}
	if strings.Contains(raw, "?") && !sc.V2 {
		return sc, false // queries are a SMART v2 feature
	}
	return sc, true
}

// validResourceType accepts "*" and names shaped like FHIR resource types.
func validResourceType(t string) bool {
	if t == "*" {
		return true
	}
	if t == "" || t[0] < 'A' || t[0] > 'Z' {
		return false
	}
	for _, c := range t {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// String writes the scope back in SMART syntax.
func (s Scope) String() string {
	out := s.Context + "/" + s.Type + "." + s.Permission
	if s.Query != "" {
		out += "?" + s.Query
	}
	return out
}
