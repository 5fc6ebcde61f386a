// Package sandbox is the built-in Care Connect sandbox: an in-process stand-in for the NHS Care
// Connect Reference Implementation (CCRI), with an OAuth2 authorization server and a read-only
// FHIR STU3 server over deterministic synthetic data.
//
// Start generates the data and a signing key, binds the configured address and serves:
//
//	<root>/ccri-fhir/STU3                       FHIR base: metadata, read and search of 14 types
//	<root>/ccri-fhir/STU3/.well-known/smart-configuration
//	<root>/ccri-auth/oauth/authorize            authorization code + PKCE S256 (login page at /ccri-auth/login)
//	<root>/ccri-auth/oauth/token                client_credentials, authorization_code, refresh_token, password
//	<root>/ccri-auth/oauth/revoke               RFC 7009
//	<root>/ccri-auth/oauth/introspect           RFC 7662
//	<root>/ccri-auth/jwks                       the ES256 key that signs the RFC 9068 JWT access tokens
//	<root>/ccri-auth/.well-known/openid-configuration and <root>/.well-known/oauth-authorization-server/ccri-auth
//
// The authorization server is built on github.com/ory/fosite. Resources are kept as a compact Go
// model with search fields; each one is turned into an STU3 proto and serialised with
// github.com/google/fhir/go/jsonformat on first use and cached, and searchset Bundles are
// assembled from those cached resources.
//
// Which scope reads which type follows the policy chosen in Config.Policy: "ccri" (the CCRI
// security guide's irregular table) or "smart" (SMART App Launch v1/v2 scopes, strictly). The
// package deliberately shares no code with the client packages of this module.
package sandbox
