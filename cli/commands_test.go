package cli

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/careconnectexplorer/ccexplorer/profile"
	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

// isolate points the profile store and the keyring at a fresh folder.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv(profile.EnvConfigDir, dir)
	t.Setenv(profile.EnvKeyringBackend, profile.BackendFile)
	t.Setenv(profile.EnvKeyringPassword, "test keyring passphrase")
	return dir
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs a command in-process with stdin.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut strings.Builder
	code := Run(args, Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Context: context.Background()})
	return result{out.String(), errOut.String(), code}
}

// want fails the test unless the command exited with code.
func (r result) want(t *testing.T, code int, what string) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", what, r.code, code, r.stdout, r.stderr)
	}
	return r
}

// startSandbox runs a sandbox in the test process.
func startSandbox(t *testing.T) sandbox.Info {
	t.Helper()
	srv, err := sandbox.Start(sandbox.Config{Patients: 12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv.Info()
}

func secretOf(t *testing.T, info sandbox.Info, clientID string) string {
	t.Helper()
	for _, c := range info.Clients {
		if c.ClientID == clientID {
			return c.ClientSecret
		}
	}
	t.Fatalf("the sandbox has no client %s", clientID)
	return ""
}

var helpPaths = [][]string{
	{"sandbox"}, {"profile"}, {"profile", "add"}, {"profile", "list"}, {"profile", "show"}, {"profile", "remove"},
	{"profile", "export"}, {"profile", "import"}, {"discover"}, {"login"}, {"logout"}, {"token"}, {"access"},
	{"query"}, {"show"},
}

// Every command has --help: a usage line, and every flag its synopsis
// names is described in the flag list.
func TestHelpForEveryCommand(t *testing.T) {
	flagRef := regexp.MustCompile(`--[a-z][a-z-]*`)
	for _, path := range helpPaths {
		name := strings.Join(path, " ")
		t.Run(name, func(t *testing.T) {
			r := run(t, "", append(slices.Clone(path), "--help")...).want(t, ExitOK, name+" --help")
			if !strings.HasPrefix(r.stdout, "Usage: ccexplorer "+name) {
				t.Errorf("help does not start with the usage line:\n%s", r.stdout)
			}
			if r.stderr != "" {
				t.Errorf("help wrote to stderr: %s", r.stderr)
			}
			if path[0] == "profile" && len(path) == 1 {
				return
			}
			synopsis, _, _ := strings.Cut(r.stdout, "\n")
			for _, f := range flagRef.FindAllString(synopsis, -1) {
				if !strings.Contains(r.stdout, "\n  "+f+" ") && !strings.Contains(r.stdout, "\n  "+f+"\n") {
					t.Errorf("the synopsis names %s, but the flag list does not describe it:\n%s", f, r.stdout)
				}
			}
			if h := run(t, "", append([]string{"help"}, path...)...); path[0] != "profile" && h.stdout != r.stdout {
				t.Errorf("'ccexplorer help %s' differs from --help", name)
			}
		})
	}
	r := run(t, "", "--help").want(t, ExitOK, "--help")
	for _, c := range commands {
		if !strings.Contains(r.stdout, "\n  "+c.name+" ") {
			t.Errorf("the overview does not list %s", c.name)
		}
	}
}

func TestCommandLineMistakesExit1(t *testing.T) {
	isolate(t)
	for _, args := range [][]string{
		{"token"},
		{"token", "a", "b"},
		{"token", "x", "--bogus"},
		{"token", "no such profile"},
		{"access", "no such profile", "--json"},
		{"query", "Built-in sandbox"},
		{"query", "Built-in sandbox", "patient?x=1"},
		{"query", "Built-in sandbox", "Patient", "--format", "xml"},
		{"query", "Built-in sandbox", "Patient", "--max", "-1"},
		{"show"},
		{"show", "/no/such/file.json"},
		{"show", "x.json", "--format", "yaml"},
		{"discover", "ftp://example.org"},
		{"discover"},
		{"login", "no such profile"},
		{"profile"},
		{"profile", "rename", "a"},
		{"profile", "show", "nope"},
		{"profile", "remove", "Built-in sandbox"},
		{"profile", "export", "Built-in sandbox"},
		{"profile", "import", "/no/such/export.json"},
		{"help", "nope"},
	} {
		r := run(t, "", args...)
		if r.code != ExitUsage {
			t.Errorf("%q: exit %d, want %d; stderr: %s", args, r.code, ExitUsage, r.stderr)
		}
		if r.stderr == "" {
			t.Errorf("%q: nothing said on stderr", args)
		}
		if r.stdout != "" {
			t.Errorf("%q: wrote to stdout: %s", args, r.stdout)
		}
	}
}

func TestProfileAddReportsEveryProblem(t *testing.T) {
	isolate(t)
	r := run(t, "", "profile", "add", "bad", "--base", "ftp://example.org", "--grant", "magic", "--policy", "lenient",
		"--redirect-port", "70000").want(t, ExitUsage, "profile add with bad fields")
	for _, field := range []string{"base_url:", "grant:", "policy:", "redirect_port:"} {
		if !strings.Contains(r.stderr, "\n  "+field) {
			t.Errorf("stderr does not list the %s problem on its own line:\n%s", field, r.stderr)
		}
	}
	r = run(t, "", "profile", "add", "tls", "--base", "https://example.org/fhir", "--ca-file", "/no/such/ca.pem").
		want(t, ExitUsage, "profile add with a missing CA file")
	if !strings.Contains(r.stderr, "ca_cert_file") {
		t.Errorf("the CA file problem is not named: %s", r.stderr)
	}
	run(t, "", "profile", "add", "x", "--base", "https://example.org/fhir", "--client-secret-stdin").
		want(t, ExitUsage, "a client secret for grant none")
	run(t, "", "profile", "add", "x", "--base", "https://example.org/fhir", "--client-id", "c", "--client-secret-stdin").
		want(t, ExitUsage, "--client-secret-stdin with an empty stdin")
	list := run(t, "", "profile", "list", "--json").want(t, ExitOK, "profile list")
	var ps []profileJSON
	if err := json.Unmarshal([]byte(list.stdout), &ps); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if !p.Builtin {
			t.Errorf("a refused profile was saved: %s", p.Name)
		}
	}
}

func TestProfileLifecycle(t *testing.T) {
	dir := isolate(t)
	const secret = "lifecycle-client-secret-7d1e"
	r := run(t, secret+"\n", "profile", "add", "Ward system", "--base", "https://ward.example.nhs.uk/STU3",
		"--client-id", "ward", "--client-secret-stdin", "--scopes", "user/Patient.read  user/Observation.read",
		"--policy", "ccri", "--audience", "https://ward.example.nhs.uk").want(t, ExitOK, "profile add")
	if !strings.Contains(r.stderr, `Added profile "Ward system"`) {
		t.Errorf("stderr: %s", r.stderr)
	}
	run(t, "", "profile", "add", "Ward system", "--base", "https://other.example").want(t, ExitUsage, "adding a taken name")
	run(t, "", "profile", "add", "plain", "--base", "http://ward.example.nhs.uk/STU3", "--allow-insecure-http").
		want(t, ExitOK, "profile add with insecure http")

	list := run(t, "", "profile", "list").want(t, ExitOK, "profile list")
	for _, want := range []string{"Built-in sandbox", "built-in", "Ward system", "client_credentials", "https://ward.example.nhs.uk/STU3"} {
		if !strings.Contains(list.stdout, want) {
			t.Errorf("profile list lacks %q:\n%s", want, list.stdout)
		}
	}

	show := run(t, "", "profile", "show", "Ward system", "--json").want(t, ExitOK, "profile show --json")
	var p profileJSON
	if err := json.Unmarshal([]byte(show.stdout), &p); err != nil {
		t.Fatal(err)
	}
	if p.ClientSecretStored == nil || !*p.ClientSecretStored || p.Session != nil || p.Policy != profile.PolicyCCRI ||
		!slices.Equal(p.Scopes, []string{"user/Patient.read", "user/Observation.read"}) {
		t.Errorf("profile show --json = %s", show.stdout)
	}
	text := run(t, "", "profile", "show", "plain").want(t, ExitOK, "profile show")
	if !strings.Contains(text.stdout, "Warning:") || !strings.Contains(text.stdout, "plain http") {
		t.Errorf("profile show does not warn about plain http:\n%s", text.stdout)
	}

	export := run(t, "", "profile", "export").want(t, ExitOK, "profile export")
	if !strings.Contains(export.stdout, "Ward system") || strings.Contains(export.stdout, "Built-in") {
		t.Errorf("export: %s", export.stdout)
	}
	file := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(file, []byte(export.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, "", "profile", "remove", "Ward system").want(t, ExitOK, "profile remove")
	run(t, "", "profile", "show", "Ward system").want(t, ExitUsage, "profile show after remove")
	imp := run(t, "", "profile", "import", file).want(t, ExitOK, "profile import")
	if imp.stdout != "Ward system\n" {
		t.Errorf("import printed %q, want the one name it added", imp.stdout)
	}
	again := run(t, export.stdout, "profile", "import", "-").want(t, ExitOK, "importing the same profiles from stdin")
	if again.stdout != "" {
		t.Errorf("importing identical profiles added %q", again.stdout)
	}
	run(t, `{"format": 1, "profiles": [{"name": "x"}]}`, "profile", "import", "-").want(t, ExitUsage, "importing an invalid profile")

	// No secret in any file of the profile folder, nor in any output.
	for _, r := range []result{r, list, show, text, export, imp} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("the client secret was printed")
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, profile.FileName))
	if err != nil || strings.Contains(string(data), secret) {
		t.Errorf("the profile file holds the secret (or cannot be read: %v)", err)
	}
}

// A user profile on a sandbox: the first command logs in and saves the
// session, later ones reuse it, and an expired one is renewed.
func TestSessionsAreSavedReusedAndRenewed(t *testing.T) {
	isolate(t)
	info := startSandbox(t)
	secret := secretOf(t, info, "clinical-access")
	run(t, secret+"\n", "profile", "add", "clin", "--base", info.FHIRBase, "--client-id", "clinical-access",
		"--client-secret-stdin").want(t, ExitOK, "profile add")

	first := run(t, "", "token", "clin", "--show-token").want(t, ExitOK, "token --show-token")
	second := run(t, "", "token", "clin", "--show-token").want(t, ExitOK, "token --show-token again")
	if first.stdout == "" || first.stdout != second.stdout {
		t.Fatalf("the second command did not reuse the saved token")
	}
	show := run(t, "", "profile", "show", "clin").want(t, ExitOK, "profile show")
	if !strings.Contains(show.stdout, "Session:") || !strings.Contains(show.stdout, "saved, expires at") {
		t.Errorf("profile show does not mention the saved session:\n%s", show.stdout)
	}

	later := time.Now().Add(3 * time.Hour)
	clock = func() time.Time { return later }
	t.Cleanup(func() { clock = nil })
	renewed := run(t, "", "token", "clin", "--json", "--show-token").want(t, ExitOK, "token with an expired session")
	var tok tokenJSON
	if err := json.Unmarshal([]byte(renewed.stdout), &tok); err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.AccessToken+"\n" == first.stdout {
		t.Errorf("the expired token was not replaced")
	}
	clock = nil

	run(t, "", "logout", "clin").want(t, ExitOK, "logout")
	show = run(t, "", "profile", "show", "clin").want(t, ExitOK, "profile show after logout")
	if !strings.Contains(show.stdout, "none saved") {
		t.Errorf("the session survived logout:\n%s", show.stdout)
	}
}

// Profiles whose log-in needs the user exit 2 and say what to run.
func TestLoginNeededExits2(t *testing.T) {
	isolate(t)
	info := startSandbox(t)
	run(t, "", "profile", "add", "desk", "--base", info.FHIRBase, "--grant", "authorization_code",
		"--client-id", "ccexplorer-desktop").want(t, ExitOK, "profile add")
	run(t, "legacy-password-secret\n", "profile", "add", "legacy", "--base", info.FHIRBase, "--grant", "password",
		"--client-id", "legacy-password", "--client-secret-stdin", "--username", "gp").want(t, ExitOK, "profile add")
	for _, args := range [][]string{
		{"token", "desk"}, {"access", "desk"}, {"query", "desk", "Patient"},
		{"token", "legacy"},
		{"token", "Built-in sandbox — browser login"},
	} {
		r := run(t, "", args...)
		if r.code != ExitAuth || !strings.Contains(r.stderr, "ccexplorer ") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 saying what to run", args, r.code, r.stderr)
		}
	}
	r := run(t, "", "token", "desk")
	if !strings.Contains(r.stderr, "run 'ccexplorer login desk'") {
		t.Errorf("the message does not say to log in: %s", r.stderr)
	}
	run(t, "", "login", "legacy").want(t, ExitUsage, "password login without a password")
	r = run(t, "gp-password\n", "login", "legacy", "--password-stdin").want(t, ExitOK, "password login")
	run(t, "", "token", "legacy").want(t, ExitOK, "token after the password login (refresh token)")
	if strings.Contains(r.stdout+r.stderr, "gp-password") {
		t.Errorf("the password was printed")
	}
}

// A built-in profile works with no sandbox running: the command starts one.
func TestBuiltinProfilesNeedNoServer(t *testing.T) {
	isolate(t)
	r := run(t, "", "access", "Built-in sandbox — patient-access", "--json").want(t, ExitOK, "access on a built-in profile")
	var rows []accessJSON
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range rows {
		got[a.Type] = a.Access
	}
	if got["Patient"] != "read" || got["Observation"] != "none" || len(rows) < 10 {
		t.Errorf("patient-access: %v", got)
	}
	q := run(t, "", "query", "Built-in sandbox", "Patient?_count=4", "--format", "csv").want(t, ExitOK, "query a built-in profile")
	if lines := strings.Count(q.stdout, "\n"); lines != 5 {
		t.Errorf("csv has %d lines, want a header and 4 rows:\n%s", lines, q.stdout)
	}
	run(t, "", "query", "Built-in sandbox — limited-access", "Observation").want(t, ExitAuth, "a 403 search")
}

// A profile without a grant on a server that wants tokens: the report says
// so per type (exit 0), and a search is refused (exit 2).
func TestAccessWithoutAToken(t *testing.T) {
	isolate(t)
	info := startSandbox(t)
	run(t, "", "profile", "add", "open", "--base", info.FHIRBase).want(t, ExitOK, "profile add")
	r := run(t, "", "access", "open", "--probe", "--json").want(t, ExitOK, "access --probe without a token")
	var rows []accessJSON
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	for _, a := range rows {
		if a.Access != "none" || a.ServerStatus != 401 || a.Policy == "" {
			t.Errorf("%+v", a)
		}
	}
	if len(rows) == 0 {
		t.Error("no rows")
	}
	run(t, "", "query", "open", "Patient").want(t, ExitAuth, "a search without a token")
	run(t, "", "token", "open").want(t, ExitUsage, "token for a profile without a grant")
	run(t, "", "login", "open").want(t, ExitUsage, "login for a profile without a grant")
}

// Servers that fail, answer nonsense or cannot be reached exit 3.
func TestServerFailuresExit3(t *testing.T) {
	isolate(t)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database on fire", http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>Please sign in to the proxy</body></html>"))
	}))
	t.Cleanup(html.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/fhir"
	ln.Close()

	run(t, "", "profile", "add", "failing", "--base", failing.URL).want(t, ExitOK, "profile add")
	run(t, "", "profile", "add", "html", "--base", html.URL).want(t, ExitOK, "profile add")
	run(t, "", "profile", "add", "closed", "--base", closed).want(t, ExitOK, "profile add")
	run(t, "some-secret-value\n", "profile", "add", "closed-oauth", "--base", closed, "--client-id", "c",
		"--client-secret-stdin").want(t, ExitOK, "profile add")
	for _, args := range [][]string{
		{"query", "failing", "Patient"},
		{"access", "failing"},
		{"query", "html", "Patient"},
		{"query", "closed", "Patient"},
		{"token", "closed-oauth"},
		{"discover", closed},
		{"discover", failing.URL},
	} {
		r := run(t, "", args...)
		if r.code != ExitServer || r.stderr == "" {
			t.Errorf("%q: exit %d, want %d; stderr: %s", args, r.code, ExitServer, r.stderr)
		}
	}
}

const fixtures = "../../shared/fixtures/careconnect-stu3/ccri"

func TestShowFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*"))
	if len(files) == 0 {
		t.Skipf("no fixtures at %s", fixtures)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if strings.HasSuffix(f, ".xml") {
				r := run(t, "", "show", f).want(t, ExitUsage, "show an XML file")
				if !strings.Contains(r.stderr, "XML is not supported") {
					t.Errorf("stderr: %s", r.stderr)
				}
				return
			}
			table := run(t, "", "show", f).want(t, ExitOK, "show")
			if lines := strings.Split(strings.TrimSpace(table.stdout), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "ID ") {
				t.Errorf("want a header and one row:\n%s", table.stdout)
			}
			csvOut := run(t, "", "show", f, "--format", "csv").want(t, ExitOK, "show csv")
			if strings.Count(csvOut.stdout, "\n") != 2 {
				t.Errorf("csv: %s", csvOut.stdout)
			}
			js := run(t, "", "show", f, "--format", "json").want(t, ExitOK, "show json")
			var res map[string]any
			if err := json.Unmarshal([]byte(js.stdout), &res); err != nil || res["resourceType"] == nil {
				t.Errorf("json is not the resource: %v\n%s", err, js.stdout)
			}
			nd := run(t, "", "show", f, "--format", "ndjson").want(t, ExitOK, "show ndjson")
			if strings.Count(nd.stdout, "\n") != 1 {
				t.Errorf("ndjson: %s", nd.stdout)
			}
		})
	}
	// The CCRI's own examples that carry category or performer as objects.
	for _, f := range []string{"Observation-BodyMassIndex.json", "Observation-SmokingStatus.json"} {
		r := run(t, "", "show", filepath.Join(fixtures, f)).want(t, ExitOK, "show "+f)
		if !strings.Contains(r.stderr, "warning: ") || !strings.Contains(r.stderr, "does not conform") {
			t.Errorf("%s: no conformance warning on stderr: %q", f, r.stderr)
		}
	}
	r := run(t, "", "show", filepath.Join(fixtures, "Patient.json"))
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("a conformant Patient gets warnings: %s", r.stderr)
	}
}

func TestShowBundleFile(t *testing.T) {
	isolate(t)
	q := run(t, "", "query", "Built-in sandbox", "Patient?_count=3&_revinclude=Observation:patient", "--format", "json").
		want(t, ExitOK, "query json")
	file := filepath.Join(t.TempDir(), "bundle.json")
	if err := os.WriteFile(file, []byte(q.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	table := run(t, "", "show", file).want(t, ExitOK, "show a bundle")
	if !strings.Contains(table.stdout, "Patient (3)\n") || !strings.Contains(table.stdout, "\nObservation (") {
		t.Errorf("the table does not show each type:\n%s", table.stdout)
	}
	obs := run(t, "", "show", file, "--type", "Observation", "--format", "csv").want(t, ExitOK, "show --type")
	if !strings.HasPrefix(obs.stdout, "ID,Date,Code,") {
		t.Errorf("csv of Observations: %s", obs.stdout)
	}
	run(t, "", "show", file, "--type", "Encounter").want(t, ExitUsage, "show --type absent")
	again := run(t, "", "show", file, "--format", "json").want(t, ExitOK, "show json")
	var b bundleJSON
	if err := json.Unmarshal([]byte(again.stdout), &b); err != nil || b.Type != "searchset" || len(b.Entry) < 4 {
		t.Errorf("the bundle did not survive a round trip: %v %+v", err, b)
	}
}

// A saved token the server no longer accepts (here: the sandbox restarted
// with new keys on the same address) is renewed once, and the command
// succeeds.
func TestStaleSavedTokenIsRenewed(t *testing.T) {
	isolate(t)
	srv, err := sandbox.Start(sandbox.Config{Patients: 5})
	if err != nil {
		t.Fatal(err)
	}
	info := srv.Info()
	addr := strings.TrimPrefix(info.Issuer, "http://")
	addr, _, _ = strings.Cut(addr, "/")
	run(t, secretOf(t, info, "patient-access")+"\n", "profile", "add", "pa", "--base", info.FHIRBase,
		"--client-id", "patient-access", "--client-secret-stdin").want(t, ExitOK, "profile add")
	old := run(t, "", "token", "pa", "--show-token").want(t, ExitOK, "token").stdout
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	restarted, err := sandbox.Start(sandbox.Config{Addr: addr, Patients: 5, Seed: 2})
	if err != nil {
		t.Skipf("cannot restart the sandbox on %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = restarted.Close() })

	r := run(t, "", "query", "pa", "Patient?_count=2", "--format", "ndjson").want(t, ExitOK, "query with a stale saved token")
	if !strings.Contains(r.stderr, "did not accept the saved token") || strings.Count(r.stdout, "\n") != 2 {
		t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
	}
	if now := run(t, "", "token", "pa", "--show-token").want(t, ExitOK, "token").stdout; now == old {
		t.Error("the renewed token was not saved")
	}
}

func TestDiscover(t *testing.T) {
	isolate(t)
	for _, noWellKnown := range []bool{false, true} {
		srv, err := sandbox.Start(sandbox.Config{Patients: 2, NoWellKnown: noWellKnown})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		info := srv.Info()
		r := run(t, "", "discover", info.FHIRBase, "--json").want(t, ExitOK, "discover --json")
		var d discoveryJSON
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatal(err)
		}
		if d.TokenEndpoint != info.TokenEndpoint || d.AuthorizationEndpoint != info.AuthorizeEndpoint ||
			d.Policy != "ccri" || !d.LooksLikeCCRI || len(d.Steps) < 2 || d.Error != "" {
			t.Errorf("no-well-known=%v: %s", noWellKnown, r.stdout)
		}
		text := run(t, "", "discover", info.FHIRBase).want(t, ExitOK, "discover")
		if !strings.Contains(text.stdout, "Token endpoint:") || !strings.Contains(text.stdout, "\nSteps:\n  1. SMART configuration") {
			t.Errorf("discover:\n%s", text.stdout)
		}
	}
}
