package cli

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/connect"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
	"github.com/careconnectexplorer/ccexplorer/profile"
)

// errLoginNeeded says that only an interactive log-in (the browser, or a
// password typed in) can give the profile a session.
var errLoginNeeded = errors.New("a log-in is needed")

// exitCode maps an error to the process exit code: ExitUsage for mistakes
// in the command line, the profile or an input file; ExitAuth when the
// server refused the client, the user or the token; ExitServer for network
// failures, server errors and answers that cannot be used. Errors it does
// not know are taken as server or network errors: everything the user
// controls is checked, and named, before a request is made.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	// An answer from the FHIR server: its status decides.
	var he *fhirclient.HTTPError
	if errors.As(err, &he) {
		if he.Status == 401 || he.Status == 403 || errors.Is(he, fhirclient.ErrUnauthorized) || errors.Is(he, fhirclient.ErrForbidden) {
			return ExitAuth
		}
		return ExitServer
	}
	// An answer from the token endpoint: a refusal, unless the server
	// failed without saying why.
	var te *auth.TokenError
	if errors.As(err, &te) {
		if te.Code == "" && te.Status >= 500 {
			return ExitServer
		}
		return ExitAuth
	}
	var ae *auth.AuthorizationError
	if errors.As(err, &ae) {
		return ExitAuth
	}
	var ve *profile.ValidationError
	if errors.As(err, &ve) {
		return ExitUsage
	}
	for _, target := range []error{
		errLoginNeeded, connect.ErrNoSavedSession,
		fhirclient.ErrUnauthorized, fhirclient.ErrForbidden,
		auth.ErrExpired, auth.ErrCannotRenew, auth.ErrLoggedOut, auth.ErrInsufficientScope,
		auth.ErrIssuerMismatch, auth.ErrCancelled, auth.ErrTimedOut,
	} {
		if errors.Is(err, target) {
			return ExitAuth
		}
	}
	for _, target := range []error{
		profile.ErrNotFound, profile.ErrExists, profile.ErrBuiltin, profile.ErrInvalidImport,
		profile.ErrCorrupt, profile.ErrNewerVersion, profile.ErrKeyringUnavailable,
		connect.ErrNoGrant, fhirclient.ErrXMLNotSupported, fhirclient.ErrNotBundle,
		fs.ErrNotExist, fs.ErrPermission,
	} {
		if errors.Is(err, target) {
			return ExitUsage
		}
	}
	return ExitServer
}

// errorText is the message printed for err: the error itself, with a
// validation error's problems one per line.
func errorText(err error) string {
	var ve *profile.ValidationError
	if errors.As(err, &ve) && len(ve.Problems) > 0 {
		var b strings.Builder
		b.WriteString("profile " + quote(ve.Profile) + " is not valid:")
		for _, p := range ve.Problems {
			b.WriteString("\n  " + p.Error())
		}
		return b.String()
	}
	return err.Error()
}

// quote quotes a profile name for messages and suggested commands.
func quote(name string) string {
	if name != "" && !strings.ContainsAny(name, " \t'\"\\$`!*?;&|<>()[]{}#~") {
		return name
	}
	return "'" + strings.ReplaceAll(name, "'", `'\''`) + "'"
}
