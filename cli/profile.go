package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/careconnectexplorer/ccexplorer/connect"
	"github.com/careconnectexplorer/ccexplorer/profile"
)

const profileUsage = `Usage: ccexplorer profile COMMAND [args]

Manages the saved server profiles the window uses too. Secrets (client
secrets, passwords, tokens) are kept in the keyring, never in the profile
file, and are never printed.

Commands:
  add NAME --base URL [flags]  add a profile (see 'ccexplorer profile add --help')
  list [--json]                list the profiles, built-in ones first
  show NAME [--json]           show a profile, whether secrets and a session are stored, and warnings
  remove NAME                  remove a profile and its secrets
  export [NAME...]             print profiles as JSON for sharing (never with secrets)
  import FILE                  add the profiles of an export ("-" reads stdin)
`

func runProfile(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return usagef("missing profile command: add, list, show, remove, export or import")
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "--help", "-help", "-h", "help":
		fmt.Fprint(env.Stdout, profileUsage)
		return errHelpShown
	case "add":
		return runProfileAdd(env, rest)
	case "list":
		return runProfileList(env, rest)
	case "show":
		return runProfileShow(env, rest)
	case "remove", "rm":
		return runProfileRemove(env, rest)
	case "export":
		return runProfileExport(env, rest)
	case "import":
		return runProfileImport(env, rest)
	}
	return usagef("unknown profile command %q: use add, list, show, remove, export or import", sub)
}

const profileAddUsage = `Usage: ccexplorer profile add NAME --base URL [--grant none|client_credentials|authorization_code|password] [--client-id ID] [--client-secret-stdin] [--username U] [--password-stdin] [--scopes "..."] [--policy auto|smart|ccri] [--token-url URL] [--authorize-url URL] [--audience X] [--redirect-port N] [--ca-file PATH]

Adds a server profile. The profile is checked first; each problem is printed
on stderr and nothing is saved.

Secrets are never taken as flag values: --client-secret-stdin reads the
client secret from the first line of stdin, and --password-stdin reads the
password grant's password from the next line (it is then remembered in the
keyring). Without --grant, the grant is password when --username is given,
client_credentials when --client-id is given, and none otherwise.
`

func runProfileAdd(env Env, args []string) error {
	fs := newFlagSet("profile add", profileAddUsage, env)
	base := fs.String("base", "", "the FHIR base `URL`, for example https://example.org/ccri-fhir/STU3")
	grant := fs.String("grant", "", "the OAuth2 `grant`: none, client_credentials, authorization_code or password")
	clientID := fs.String("client-id", "", "the OAuth2 client `ID`")
	secretStdin := fs.Bool("client-secret-stdin", false, "read the client secret from a line of stdin and keep it in the keyring")
	clientAuth := fs.String("client-auth", "", "how the client authenticates: `basic` (default) or body")
	username := fs.String("username", "", "the password grant's user `name`")
	passwordStdin := fs.Bool("password-stdin", false, "read the password grant's password from a line of stdin and remember it in the keyring")
	scopes := fs.String("scopes", "", "the scopes to request, separated by spaces (none: whatever the server grants)")
	policy := fs.String("policy", "", "how scopes map to readable types: `auto` (default), smart or ccri")
	tokenURL := fs.String("token-url", "", "the token endpoint `URL`, instead of the discovered one")
	authorizeURL := fs.String("authorize-url", "", "the authorization endpoint `URL`, instead of the discovered one")
	revokeURL := fs.String("revoke-url", "", "the revocation endpoint `URL`, instead of the discovered one")
	audience := fs.String("audience", "", "the `aud`/resource parameter to send with token requests")
	redirectPort := fs.Int("redirect-port", 0, "pin the authorization code grant's loopback redirect `port` (default: a free port)")
	caFile := fs.String("ca-file", "", "a PEM `file` of extra CA certificates to trust")
	insecure := fs.Bool("allow-insecure-http", false, "allow plain http to a host that is not loopback (tokens travel unencrypted)")
	notes := fs.String("notes", "", "free `text` for the profile")
	pos, err := fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	p := profile.Profile{
		Name: pos[0], BaseURL: *base, Grant: profile.Grant(*grant), ClientID: *clientID,
		ClientAuth: profile.ClientAuth(*clientAuth), Scopes: strings.Fields(*scopes), Policy: profile.Policy(*policy),
		TokenURL: *tokenURL, AuthorizeURL: *authorizeURL, RevokeURL: *revokeURL, Audience: *audience,
		RedirectPort: *redirectPort, Username: *username, AllowInsecureHTTP: *insecure, Notes: *notes,
		RememberPassword: *passwordStdin,
	}
	if p.Grant == "" {
		switch {
		case p.Username != "":
			p.Grant = profile.GrantPassword
		case p.ClientID != "":
			p.Grant = profile.GrantClientCredentials
		default:
			p.Grant = profile.GrantNone
		}
	}
	if *caFile != "" {
		abs, err := filepath.Abs(*caFile)
		if err != nil {
			return withCode(ExitUsage, fmt.Errorf("--ca-file: %w", err))
		}
		p.CACertFile = abs
	}
	if *secretStdin && p.Grant == profile.GrantNone {
		return usagef("--client-secret-stdin needs a grant other than none")
	}
	if *passwordStdin && p.Grant != profile.GrantPassword {
		return usagef("--password-stdin is for the password grant only")
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if _, err := p.CertPool(); err != nil {
		return err
	}
	in := newStdinLines(env.Stdin)
	var secret, password string
	if *secretStdin {
		if secret, err = in.next("client secret"); err != nil {
			return err
		}
	}
	if *passwordStdin {
		if password, err = in.next("password"); err != nil {
			return err
		}
	}
	w, err := openWorkspace()
	if err != nil {
		return err
	}
	defer w.Close()
	if (secret != "" || password != "") && w.SecretsProblem != nil {
		return withCode(ExitUsage, fmt.Errorf("cannot keep the secret: %w (choose a keyring with CCEXPLORER_KEYRING_BACKEND, and CCEXPLORER_KEYRING_PASSWORD for the file keyring)", w.SecretsProblem))
	}
	if err := w.Store.Add(p); err != nil {
		return err
	}
	for _, s := range []struct {
		kind  profile.SecretKind
		value string
	}{{profile.SecretClientSecret, secret}, {profile.SecretPassword, password}} {
		if s.value == "" {
			continue
		}
		if err := w.Secrets.Set(p.Name, s.kind, s.value); err != nil {
			_ = w.Store.Remove(p.Name)
			return fmt.Errorf("the profile was not added: %w", err)
		}
	}
	saved, err := w.Store.Get(p.Name)
	if err != nil {
		saved = p
	}
	for _, warn := range saved.Warnings() {
		fmt.Fprintf(env.Stderr, "warning: %s\n", warn)
	}
	fmt.Fprintf(env.Stderr, "Added profile %q.\n", saved.Name)
	return nil
}

// profileJSON is a profile as list --json and show --json print it.
type profileJSON struct {
	profile.Profile
	Default  bool     `json:"default"`
	Warnings []string `json:"warnings,omitempty"`
	// Stored secrets, for show only: whether they exist, never their values.
	ClientSecretStored *bool        `json:"client_secret_stored,omitempty"`
	PasswordStored     *bool        `json:"password_stored,omitempty"`
	Session            *sessionJSON `json:"session,omitempty"`
}

// sessionJSON describes a saved session without its tokens.
type sessionJSON struct {
	Scopes          []string   `json:"granted_scopes"`
	ScopesSource    string     `json:"scopes_source,omitempty"`
	ExpiresAt       *time.Time `json:"expires_at"`
	Expired         bool       `json:"expired"`
	HasRefreshToken bool       `json:"has_refresh_token"`
}

const profileListUsage = `Usage: ccexplorer profile list [--json]

Lists the profiles, built-in ones first, and marks the default one (the one
the window opens with).
`

func runProfileList(env Env, args []string) error {
	fs := newFlagSet("profile list", profileListUsage, env)
	asJSON := fs.Bool("json", false, "print a JSON array of profiles")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	w, err := openWorkspace()
	if err != nil {
		return err
	}
	defer w.Close()
	list := w.Store.List()
	def := w.Store.Default()
	if *asJSON {
		out := make([]profileJSON, len(list))
		for i, p := range list {
			out[i] = profileJSON{Profile: p, Default: p.Name == def, Warnings: p.Warnings()}
		}
		return writeJSON(env.Stdout, out)
	}
	rows := make([][]string, len(list))
	for i, p := range list {
		kind := "user"
		if p.Builtin {
			kind = "built-in"
		}
		mark := ""
		if p.Name == def {
			mark = "*"
		}
		rows[i] = []string{mark, p.Name, kind, string(p.Grant), p.ClientID, serverOf(p)}
	}
	return writeTable(env.Stdout, []string{"DEFAULT", "NAME", "KIND", "GRANT", "CLIENT ID", "SERVER"}, rows)
}

// serverOf is the server a profile talks to, in words.
func serverOf(p profile.Profile) string {
	if p.IsSandbox() {
		return "built-in sandbox (client " + p.SandboxClient + ")"
	}
	return p.BaseURL
}

const profileShowUsage = `Usage: ccexplorer profile show NAME [--json]

Shows a profile: its settings, whether a client secret, a password and a
session are stored in the keyring (never their values), and its warnings.
`

func runProfileShow(env Env, args []string) error {
	fs := newFlagSet("profile show", profileShowUsage, env)
	asJSON := fs.Bool("json", false, "print the profile as a JSON object")
	pos, err := fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	w, p, err := openProfile(pos[0])
	if err != nil {
		return err
	}
	defer w.Close()
	out := profileJSON{Profile: p, Default: p.Name == w.Store.Default(), Warnings: p.Warnings()}
	if !p.IsSandbox() {
		stored := func(kind profile.SecretKind) *bool {
			_, err := w.Secrets.Get(p.Name, kind)
			if err != nil && !errors.Is(err, profile.ErrNoSecret) {
				fmt.Fprintf(env.Stderr, "note: %v\n", err)
			}
			ok := err == nil
			return &ok
		}
		out.ClientSecretStored = stored(profile.SecretClientSecret)
		if p.Grant == profile.GrantPassword {
			out.PasswordStored = stored(profile.SecretPassword)
		}
		if tok, err := w.Secrets.LoadToken(p.Name); err == nil {
			s := &sessionJSON{Scopes: strings.Fields(tok.Scope), ScopesSource: tok.ScopeSource, HasRefreshToken: tok.RefreshToken != ""}
			if s.Scopes == nil {
				s.Scopes = []string{}
			}
			if !tok.Expiry.IsZero() {
				exp := tok.Expiry.UTC()
				s.ExpiresAt = &exp
				s.Expired = !now().Before(exp)
			}
			out.Session = s
		}
	}
	if *asJSON {
		return writeJSON(env.Stdout, out)
	}
	return printProfile(env.Stdout, out, w)
}

func now() time.Time {
	if clock != nil {
		return clock()
	}
	return time.Now()
}

func printProfile(wr io.Writer, out profileJSON, w *connect.Workspace) error {
	p := out.Profile
	var kv [][2]string
	add := func(k, v string) {
		if v != "" {
			kv = append(kv, [2]string{k, v})
		}
	}
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return ""
	}
	add("Name", p.Name)
	if p.Builtin {
		add("Built-in", "yes (read-only except for its notes)")
	}
	add("Default", yes(out.Default))
	add("Server", serverOf(p))
	add("Grant", p.Grant.String())
	add("Client ID", p.ClientID)
	if p.ClientAuth != "" && p.ClientAuth != profile.ClientAuthBasic {
		add("Client authentication", string(p.ClientAuth))
	}
	add("Scopes", strings.Join(p.Scopes, " "))
	add("Access policy", string(p.Policy))
	add("Authorization endpoint", p.AuthorizeURL)
	add("Token endpoint", p.TokenURL)
	add("Revocation endpoint", p.RevokeURL)
	if p.RedirectPort != 0 {
		add("Redirect port", strconv.Itoa(p.RedirectPort))
	}
	add("Audience", p.Audience)
	add("CA file", p.CACertFile)
	add("Username", p.Username)
	add("Remember password", yes(p.RememberPassword))
	add("Allow insecure http", yes(p.AllowInsecureHTTP))
	add("Notes", p.Notes)
	storedText := func(b *bool) string {
		if b == nil {
			return ""
		}
		if *b {
			return "stored in the keyring (" + w.Secrets.Backend() + ")"
		}
		return "not stored"
	}
	if p.IsSandbox() {
		add("Client secret", "the sandbox's demo secret")
		add("Session", "not saved (the built-in sandbox starts afresh with every command)")
	} else if p.Grant != profile.GrantNone {
		add("Client secret", storedText(out.ClientSecretStored))
		add("Password", storedText(out.PasswordStored))
		switch s := out.Session; {
		case s == nil:
			add("Session", "none saved")
		default:
			text := "saved"
			if s.ExpiresAt != nil {
				if s.Expired {
					text += ", expired at " + s.ExpiresAt.Format(time.RFC3339)
				} else {
					text += ", expires at " + s.ExpiresAt.Format(time.RFC3339)
				}
			}
			if s.HasRefreshToken {
				text += ", renewable with its refresh token"
			}
			if len(s.Scopes) > 0 {
				text += "; scopes: " + strings.Join(s.Scopes, " ")
			}
			add("Session", text)
		}
	}
	for _, warn := range out.Warnings {
		add("Warning", warn)
	}
	return writeKeyValues(wr, kv)
}

const profileRemoveUsage = `Usage: ccexplorer profile remove NAME

Removes a profile and its secrets and session from the keyring. Built-in
profiles cannot be removed.
`

func runProfileRemove(env Env, args []string) error {
	fs := newFlagSet("profile remove", profileRemoveUsage, env)
	pos, err := fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	w, err := openWorkspace()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Store.Remove(pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "Removed profile %q.\n", pos[0])
	return nil
}

const profileExportUsage = `Usage: ccexplorer profile export [NAME...]

Prints the named profiles (none named: every profile that is not built-in) as
JSON for 'ccexplorer profile import' or the window's import. The export never
holds a secret.
`

func runProfileExport(env Env, args []string) error {
	fs := newFlagSet("profile export", profileExportUsage, env)
	names, err := fs.parse(args, 0, -1)
	if err != nil {
		return err
	}
	w, err := openWorkspace()
	if err != nil {
		return err
	}
	defer w.Close()
	data, err := w.Store.Export(names...)
	if err != nil {
		return err
	}
	_, err = env.Stdout.Write(data)
	return err
}

const profileImportUsage = `Usage: ccexplorer profile import FILE

Adds the profiles of an export ("-" reads it from stdin) and prints the names
they were saved under, one a line. A profile identical to an existing one is
skipped; a different one with a taken name is saved as "NAME (2)". Nothing is
imported if any profile is invalid.
`

// maxImportBytes bounds the size of an import file.
const maxImportBytes = 16 << 20

func runProfileImport(env Env, args []string) error {
	fs := newFlagSet("profile import", profileImportUsage, env)
	pos, err := fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	var r io.Reader = env.Stdin
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return withCode(ExitUsage, err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxImportBytes))
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("read %s: %w", pos[0], err))
	}
	w, err := openWorkspace()
	if err != nil {
		return err
	}
	defer w.Close()
	added, err := w.Store.Import(data)
	if err != nil {
		return err // an invalid import matches profile.ErrInvalidImport: exit 1
	}
	for _, name := range added {
		fmt.Fprintln(env.Stdout, name)
	}
	if len(added) == 0 {
		fmt.Fprintln(env.Stderr, "Nothing imported: every profile is already there.")
	} else {
		fmt.Fprintf(env.Stderr, "Imported %d profile(s).\n", len(added))
	}
	return nil
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
