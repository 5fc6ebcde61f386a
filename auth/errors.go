package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/oauth2"
)

// ErrExpired is returned when the session's access token has expired.
var ErrExpired = errors.New("the access token has expired")

// ErrCancelled is returned when the user cancelled a log-in. Errors wrapping
// it also wrap context.Canceled.
var ErrCancelled = errors.New("the log-in was cancelled")

// ErrTimedOut is returned when a browser log-in was not completed in time.
// Errors wrapping it also wrap context.DeadlineExceeded.
var ErrTimedOut = errors.New("the log-in timed out")

// ErrInsufficientScope says the token's scopes do not allow an access; see
// Access.Err.
var ErrInsufficientScope = errors.New("the token's scopes do not allow this")

// ErrCannotRenew is returned by Session.Renew when the session has no way to
// obtain a new token (no refresh token, and the grant cannot simply be asked
// again).
var ErrCannotRenew = errors.New("this session cannot renew its token; log in again")

// ErrLoggedOut is returned by Session.Token after Session.Logout.
var ErrLoggedOut = errors.New("logged out")

// ErrIssuerMismatch is returned when an authorization response carries an
// iss parameter that is not the expected issuer, or lacks one the server
// promised (RFC 9207).
var ErrIssuerMismatch = errors.New("the authorization response came from an unexpected issuer")

// ErrNoEndpoints is returned by Discover when no step found a token
// endpoint.
var ErrNoEndpoints = errors.New("no OAuth token endpoint was found")

// TokenError is an error answer from a token endpoint, in the terms of RFC
// 6749 section 5.2.
type TokenError struct {
	Status      int
	Code        string // for example invalid_client
	Description string // the server's error_description
	Body        string // the start of the body when there is no error code
}

// Error returns the refusal in plain words followed by the server's own code
// and description.
func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString(plainTokenError(e.Code))
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(" — " + e.Description)
	}
	if e.Code == "" && e.Body != "" {
		fmt.Fprintf(&b, " (HTTP %d: %q)", e.Status, e.Body)
	} else if e.Code == "" && e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	return b.String()
}

func plainTokenError(code string) string {
	switch code {
	case "invalid_client", "unauthorized_client":
		return "the server refused the client"
	case "invalid_grant":
		return "the server refused the grant"
	case "invalid_scope":
		return "the server refused the requested scopes"
	case "invalid_target":
		return "the server refused the requested resource or audience"
	case "access_denied":
		return "access was denied"
	case "unsupported_grant_type":
		return "the server does not support this grant for this client"
	case "":
		return "the server gave no usable answer"
	}
	return "the server refused the token request"
}

// describeTokenError turns x/oauth2's RetrieveError into a TokenError. The
// body is kept only when there is no error code, and cut short. secrets are
// the values the request carried (client secret, password, code, refresh
// token): a server that echoes its request in an error page must not put
// them in our error message.
func describeTokenError(err error, secrets ...string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		err = contextError(err)
		// x/oauth2's own words about a 2xx answer it could not use (HTML
		// where JSON belongs, no access_token), in plain words.
		if m, ok := strings.CutPrefix(err.Error(), "oauth2: "); ok && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			hint := ""
			if strings.Contains(m, "'<'") {
				hint = "; it looks like an HTML page (a login page, or a proxy in the way?)"
			}
			return fmt.Errorf("the server's answer is not a usable token response (%s%s)", redact(m, secrets), hint)
		}
		return err
	}
	te := &TokenError{Code: re.ErrorCode, Description: shorten(redact(re.ErrorDescription, secrets), maxDescription)}
	if re.Response != nil {
		te.Status = re.Response.StatusCode
	}
	if te.Code == "" {
		te.Body = shorten(redact(string(re.Body), secrets), 120)
	}
	return te
}

// redact replaces every occurrence of the secrets in s: as they are, form
// encoded, and inside base64 (an echoed "Authorization: Basic" header
// carries the client secret as base64 of "id:secret").
func redact(s string, secrets []string) string {
	var forms []string
	for _, sec := range secrets {
		if len(sec) >= 4 {
			forms = append(forms, sec)
			if q := url.QueryEscape(sec); q != sec {
				forms = append(forms, q)
			}
		}
	}
	if len(forms) == 0 {
		return s
	}
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, "[redacted]")
	}
	return reBase64Run.ReplaceAllStringFunc(s, func(m string) string {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			b, err := enc.DecodeString(m)
			if err != nil {
				continue
			}
			for _, f := range forms {
				if strings.Contains(string(b), f) {
					return "[redacted]"
				}
			}
		}
		return m
	})
}

// reBase64Run matches what may be a base64 encoding of a secret.
var reBase64Run = regexp.MustCompile(`[A-Za-z0-9+/_-]{8,}={0,2}`)

// maxDescription bounds how much of a server's error_description an error
// quotes.
const maxDescription = 300

// AuthorizationError is an error answer on the redirect back from the
// authorization endpoint (RFC 6749 section 4.1.2.1), for example
// access_denied when the user refused consent.
type AuthorizationError struct {
	Code        string
	Description string
	URI         string
}

// Error returns the refusal in plain words followed by the server's own code
// and description.
func (e *AuthorizationError) Error() string {
	var b strings.Builder
	switch e.Code {
	case "access_denied":
		b.WriteString("access was denied at the server's log-in page")
	case "invalid_scope":
		b.WriteString("the server refused the requested scopes")
	case "login_required", "consent_required", "interaction_required":
		b.WriteString("the server needs the user to log in or consent")
	case "unauthorized_client", "invalid_client":
		b.WriteString("the server refused the client")
	default:
		b.WriteString("the server refused the authorization request")
	}
	b.WriteString(": " + e.Code)
	if e.Description != "" {
		b.WriteString(" — " + e.Description)
	}
	return b.String()
}

// contextError maps context errors to the package's sentinels while keeping
// the context error in the chain.
func contextError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrCancelled), errors.Is(err, ErrTimedOut):
		return err
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %w", ErrCancelled, err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrTimedOut, err)
	}
	return err
}

func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
