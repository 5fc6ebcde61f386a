// Package auth is the OAuth2 client side of Care Connect Explorer: it obtains
// tokens from a FHIR server's authorization server, keeps them in a Session
// that says which scopes were granted and how long the token lives, and
// explains which resource types the token may read.
//
// The pieces, in the order the window or command line uses them:
//
//   - Discover finds the OAuth endpoints (SMART configuration, the issuer's
//     OpenID/RFC 8414 metadata, the CapabilityStatement's oauth-uris
//     extension) and reports every step.
//   - ClientCredentials, AuthorizationCode (PKCE through the system browser
//     and a 127.0.0.1 loopback listener) and the legacy PasswordGrant log in
//     and return a Session.
//   - Session holds the token, renews it (refresh token, or asking again)
//     when Tick or Run is driven, emits events, and revokes on Logout.
//   - CheckAccess says, per resource type, whether the granted scopes allow
//     reading it under SMART or the CCRI's own rules; WithServerAnswer lets
//     what the server actually did win.
//
// Every network call takes a context and an *http.Client from the caller;
// tokens and secrets never appear in errors. It never imports Fyne; the
// window and the command line both use it.
package auth
