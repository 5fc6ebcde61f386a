package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/careconnectexplorer/ccexplorer/profile"
	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

// The end-to-end tests run the real ccexplorer binary, built once by
// TestMain (or named by CCEXPLORER_TEST_BINARY), against a sandbox started
// as a process with 'ccexplorer sandbox'. They are skipped with -short.

var (
	binary   string // the ccexplorer binary under test
	buildErr error  // why it could not be built
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		if testing.Short() {
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "ccexplorer-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if binary = os.Getenv("CCEXPLORER_TEST_BINARY"); binary == "" {
			binary = filepath.Join(dir, "ccexplorer")
			cmd := exec.Command("go", "build", "-o", binary, "github.com/careconnectexplorer/ccexplorer")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build github.com/careconnectexplorer/ccexplorer: %v\n%s", err, out)
			}
		}
		defer stopSharedSandbox()
		return m.Run()
	}()
	os.Exit(code)
}

// needBinary skips under -short and fails when the binary could not be
// built.
func needBinary(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test of the built binary: skipped with -short")
	}
	if buildErr != nil {
		t.Fatalf("the ccexplorer binary could not be built (the root package needs cgo and the X11/GL headers): %v", buildErr)
	}
}

// binCLI runs the binary with its own profile folder and file keyring.
type binCLI struct {
	t   *testing.T
	env []string
}

func newCLI(t *testing.T) *binCLI {
	t.Helper()
	needBinary(t)
	dir := t.TempDir()
	env := append(os.Environ(),
		profile.EnvConfigDir+"="+dir,
		profile.EnvKeyringBackend+"="+profile.BackendFile,
		profile.EnvKeyringPassword+"=e2e keyring passphrase",
		"LANG=en_GB.UTF-8")
	return &binCLI{t: t, env: env}
}

// run runs the binary to its end.
func (c *binCLI) run(stdin string, args ...string) result {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		c.t.Fatalf("run %q: %v", args, err)
	}
	return result{out.String(), errOut.String(), code}
}

// sandboxProcess is 'ccexplorer sandbox' running as a process.
type sandboxProcess struct {
	cmd  *exec.Cmd
	info sandbox.Info
	done chan error
}

// startSandboxProcess starts 'ccexplorer sandbox' and reads its first line.
func startSandboxProcess(args ...string) (*sandboxProcess, error) {
	cmd := exec.Command(binary, append([]string{"sandbox", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "LANG=en_GB.UTF-8")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sp := &sandboxProcess{cmd: cmd, done: make(chan error, 1)}
	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	if err == nil {
		err = json.Unmarshal([]byte(line), &sp.info)
	}
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("the sandbox's first line %q: %w", line, err)
	}
	go func() {
		_, _ = io.Copy(io.Discard, r)
		sp.done <- cmd.Wait()
	}()
	return sp, nil
}

// stop interrupts the sandbox and returns its exit error.
func (sp *sandboxProcess) stop() error {
	if runtime.GOOS == "windows" { // no SIGINT to send
		_ = sp.cmd.Process.Kill()
		<-sp.done
		return nil
	}
	if err := sp.cmd.Process.Signal(os.Interrupt); err != nil {
		return err
	}
	return <-sp.done
}

func (sp *sandboxProcess) secret(clientID string) string {
	for _, c := range sp.info.Clients {
		if c.ClientID == clientID {
			return c.ClientSecret
		}
	}
	return ""
}

var (
	sharedOnce sync.Once
	shared     *sandboxProcess
	sharedErr  error
)

const sharedPatients = 23

// sharedSandbox is one sandbox process for the tests that only read.
func sharedSandbox(t *testing.T) *sandboxProcess {
	t.Helper()
	needBinary(t)
	sharedOnce.Do(func() {
		shared, sharedErr = startSandboxProcess("--patients", fmt.Sprint(sharedPatients))
	})
	if sharedErr != nil {
		t.Fatalf("start the sandbox: %v", sharedErr)
	}
	return shared
}

func stopSharedSandbox() {
	if shared != nil {
		_ = shared.stop()
	}
}

func TestE2ESandboxPrintsInfoAndStopsOnInterrupt(t *testing.T) {
	needBinary(t)
	sp, err := startSandboxProcess("--patients", "5", "--policy", "smart", "--token-ttl", "10m", "--seed", "7", "--no-well-known")
	if err != nil {
		t.Fatal(err)
	}
	in := sp.info
	if !strings.HasPrefix(in.FHIRBase, "http://127.0.0.1:") || in.Issuer == "" || in.AuthorizeEndpoint == "" ||
		in.TokenEndpoint == "" || len(in.Clients) < 5 || len(in.Users) == 0 {
		t.Errorf("incomplete first line: %+v", in)
	}
	resp, err := http.Get(in.FHIRBase + "/.well-known/smart-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("--no-well-known: the SMART configuration answered %s", resp.Status)
	}
	if err := sp.stop(); err != nil {
		t.Errorf("the sandbox did not exit 0 on SIGINT: %v", err)
	}
}

// Every confidential demo client, as a user profile: token, access and a
// search, each checked against what the client may read.
func TestE2EDemoClients(t *testing.T) {
	sp := sharedSandbox(t)
	c := newCLI(t)
	for _, tc := range []struct {
		client          string
		reads, notReads []string
	}{
		{"medication-access", []string{"Patient", "Observation", "MedicationRequest"}, nil},
		{"patient-access", []string{"Patient"}, []string{"Observation", "MedicationRequest"}},
		{"clinical-access", []string{"Patient", "Observation", "Encounter"}, []string{"DocumentReference"}},
		{"limited-access", nil, []string{"Patient", "Observation"}},
	} {
		t.Run(tc.client, func(t *testing.T) {
			c.t = t
			c.run(sp.secret(tc.client)+"\n", "profile", "add", tc.client, "--base", sp.info.FHIRBase,
				"--client-id", tc.client, "--client-secret-stdin").want(t, ExitOK, "profile add")

			r := c.run("", "token", tc.client, "--json").want(t, ExitOK, "token --json")
			var tok map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &tok); err != nil {
				t.Fatalf("token --json: %v\n%s", err, r.stdout)
			}
			for _, key := range []string{"granted_scopes", "scopes_source", "expires_at", "seconds_left", "renewable", "claims", "verified"} {
				if _, ok := tok[key]; !ok {
					t.Errorf("token --json lacks %s", key)
				}
			}
			if _, ok := tok["access_token"]; ok {
				t.Error("token --json printed the token without --show-token")
			}
			if tok["scopes_source"] != "response" || tok["renewable"] != true || tok["verified"] != true {
				t.Errorf("token --json: %s", r.stdout)
			}
			if claims, _ := tok["claims"].(map[string]any); claims["client_id"] != tc.client {
				t.Errorf("claims: %v", tok["claims"])
			}
			if left, _ := tok["seconds_left"].(float64); left <= 0 {
				t.Errorf("seconds_left = %v", tok["seconds_left"])
			}

			r = c.run("", "access", tc.client, "--json").want(t, ExitOK, "access --json")
			var rows []struct{ Type, Access, Reason string }
			if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
				t.Fatalf("access --json: %v\n%s", err, r.stdout)
			}
			got := map[string]string{}
			for _, a := range rows {
				got[a.Type] = a.Access
				if a.Reason == "" {
					t.Errorf("%s has no reason", a.Type)
				}
			}
			for _, typ := range tc.reads {
				if got[typ] != "read" {
					t.Errorf("%s: access %q, want read", typ, got[typ])
				}
				c.run("", "query", tc.client, typ+"?_count=1").want(t, ExitOK, "query "+typ)
			}
			for _, typ := range tc.notReads {
				if got[typ] != "none" {
					t.Errorf("%s: access %q, want none", typ, got[typ])
				}
				c.run("", "query", tc.client, typ+"?_count=1").want(t, ExitAuth, "query "+typ+" (refused)")
			}
			probe := c.run("", "access", tc.client, "--probe").want(t, ExitOK, "access --probe")
			if strings.Contains(probe.stdout, "denied by server") || strings.Contains(probe.stdout, "allowed by server") {
				t.Errorf("the server and the prediction disagree:\n%s", probe.stdout)
			}
		})
	}
}

func TestE2EQueryPagingAndFormats(t *testing.T) {
	sp := sharedSandbox(t)
	c := newCLI(t)
	c.run(sp.secret("medication-access")+"\n", "profile", "add", "med", "--base", sp.info.FHIRBase,
		"--client-id", "medication-access", "--client-secret-stdin").want(t, ExitOK, "profile add")
	const search = "Patient?_count=5"
	n := sharedPatients

	first := c.run("", "query", "med", search).want(t, ExitOK, "first page")
	if rows := strings.Count(first.stdout, "\n") - 1; rows != 5 || !strings.Contains(first.stderr, "--all") {
		t.Errorf("first page: %d rows; stderr %q", rows, first.stderr)
	}
	for _, tc := range []struct {
		format string
		lines  int // lines on stdout for all n patients
	}{
		{"table", n + 1}, {"csv", n + 1}, {"ndjson", n},
	} {
		r := c.run("", "query", "med", search, "--all", "--format", tc.format).want(t, ExitOK, "--all "+tc.format)
		if got := strings.Count(r.stdout, "\n"); got != tc.lines {
			t.Errorf("%s: %d lines, want %d", tc.format, got, tc.lines)
		}
		if !strings.Contains(r.stderr, fmt.Sprintf("%d Patient entries from 5 pages", n)) {
			t.Errorf("%s: stderr %q", tc.format, r.stderr)
		}
	}
	csvOut := c.run("", "query", "med", search, "--all", "--format", "csv").stdout
	if !strings.HasPrefix(csvOut, "ID,NHS number,Name,Gender,Birth date,") {
		t.Errorf("csv header: %s", strings.SplitN(csvOut, "\n", 2)[0])
	}

	r := c.run("", "query", "med", search, "--all", "--format", "json").want(t, ExitOK, "--all json")
	var b struct {
		ResourceType, Type string
		Total              int
		Link               []struct{ Relation, URL string }
		Entry              []struct {
			FullURL  string
			Resource struct{ ResourceType, ID string }
			Search   struct{ Mode string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, e := range b.Entry {
		if e.Resource.ResourceType != "Patient" || e.Search.Mode != "match" {
			t.Errorf("entry %+v", e)
		}
		ids[e.Resource.ID] = true
	}
	if b.ResourceType != "Bundle" || b.Type != "searchset" || b.Total != n || len(b.Entry) != n || len(ids) != n ||
		len(b.Link) != 1 || b.Link[0].Relation != "self" {
		t.Errorf("bundle: type %s/%s, total %d, %d entries (%d ids), links %v", b.ResourceType, b.Type, b.Total, len(b.Entry), len(ids), b.Link)
	}

	limited := c.run("", "query", "med", search, "--all", "--max", "12", "--format", "ndjson").want(t, ExitOK, "--all --max")
	if got := strings.Count(limited.stdout, "\n"); got != 12 {
		t.Errorf("--max 12: %d resources", got)
	}
	one := c.run("", "query", "med", "Patient", "--max", "3", "--format", "csv").want(t, ExitOK, "--max without --all")
	if got := strings.Count(one.stdout, "\n"); got != 4 {
		t.Errorf("--max 3: %d lines", got)
	}
	included := c.run("", "query", "med", "Patient?_count=2&_revinclude=Observation:patient", "--format", "ndjson").
		want(t, ExitOK, "_revinclude")
	if !strings.Contains(included.stdout, `"resourceType":"Observation"`) {
		t.Errorf("ndjson lacks the included Observations")
	}
	c.run("", "query", "med", "Patient?_count=2&no-such-param=1").want(t, ExitUsage, "a parameter the server refuses")
}

// The offline viewer on the CCRI's own examples.
func TestE2EShowFixtures(t *testing.T) {
	c := newCLI(t)
	files, _ := filepath.Glob(filepath.Join(fixtures, "*"))
	if len(files) == 0 {
		t.Skipf("no fixtures at %s", fixtures)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasSuffix(name, ".xml") {
			r := c.run("", "show", f).want(t, ExitUsage, "show "+name)
			if !strings.Contains(r.stderr, "XML is not supported") {
				t.Errorf("%s: stderr %q", name, r.stderr)
			}
			continue
		}
		for _, format := range []string{"table", "csv", "json", "ndjson"} {
			r := c.run("", "show", f, "--format", format).want(t, ExitOK, "show "+name+" "+format)
			if r.stdout == "" {
				t.Errorf("%s %s: no output", name, format)
			}
		}
	}
	r := c.run("", "show", filepath.Join(fixtures, "Observation-BodyMassIndex.json"))
	if !strings.Contains(r.stderr, "Observation.category") {
		t.Errorf("no conformance warning for the object-valued category: %q", r.stderr)
	}
}

// browserLogin plays the browser: it opens the authorization URL, fills in
// the sandbox's login form as user (approving, or denying), and follows
// the redirect to the command's loopback listener.
func browserLogin(authURL, user, password string, approve bool) error {
	u, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	jar, _ := cookiejar.New(nil)
	server := u.Host
	hc := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != server {
			return http.ErrUseLastResponse // the loopback callback: not yet
		}
		return nil
	}}
	resp, err := hc.Get(authURL)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(`name="username"`)) {
		return fmt.Errorf("the login page: %s\n%s", resp.Status, page)
	}
	form := url.Values{"username": {user}, "password": {password}, "decision": {"deny"}}
	if approve {
		form.Set("decision", "approve")
		form["grant_scope"] = strings.Fields(u.Query().Get("scope"))
	}
	resp, err = hc.PostForm(resp.Request.URL.String(), form)
	if err != nil {
		return err
	}
	resp.Body.Close()
	callback, err := resp.Location()
	if err != nil {
		return fmt.Errorf("the login form answered %s without a redirect", resp.Status)
	}
	if callback.Hostname() != "127.0.0.1" || callback.Path != "/callback" {
		return fmt.Errorf("redirected to %s, not the loopback callback", callback.Redacted())
	}
	resp, err = http.Get(callback.String())
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// loginNoBrowser runs 'login NAME --no-browser' and completes it in a
// goroutine playing the browser.
func (c *binCLI) loginNoBrowser(name, user, password string, approve bool) (result, error) {
	c.t.Helper()
	cmd := exec.Command(binary, "login", name, "--no-browser")
	cmd.Env = c.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		c.t.Fatalf("no authorization URL on stdout: %v; stderr: %s", err, errOut.String())
	}
	authURL := strings.TrimSpace(line)
	browser := make(chan error, 1)
	go func() { browser <- browserLogin(authURL, user, password, approve) }()
	rest, _ := io.ReadAll(r)
	werr := cmd.Wait()
	res := result{stdout: line + string(rest), stderr: errOut.String()}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		res.code = ee.ExitCode()
	} else if werr != nil {
		c.t.Fatal(werr)
	}
	return res, <-browser
}

func TestE2EAuthorizationCodeLoginWithoutBrowser(t *testing.T) {
	sp := sharedSandbox(t)
	c := newCLI(t)
	c.run("", "profile", "add", "desktop", "--base", sp.info.FHIRBase, "--grant", "authorization_code",
		"--client-id", "ccexplorer-desktop", "--scopes", "openid offline_access user/Patient.read user/Observation.read").
		want(t, ExitOK, "profile add")
	c.run("", "token", "desktop").want(t, ExitAuth, "token before the log-in")

	res, err := c.loginNoBrowser("desktop", "gp", "gp-password", true)
	if err != nil {
		t.Fatalf("the browser: %v", err)
	}
	res.want(t, ExitOK, "login --no-browser")
	first, _, _ := strings.Cut(res.stdout, "\n")
	if u, err := url.Parse(first); err != nil || !strings.HasPrefix(first, sp.info.AuthorizeEndpoint+"?") ||
		u.Query().Get("code_challenge_method") != "S256" {
		t.Errorf("the first stdout line is not the authorization URL alone: %q", first)
	}
	if strings.TrimSpace(res.stdout) != first {
		t.Errorf("login printed more than the URL on stdout: %q", res.stdout)
	}

	r := c.run("", "token", "desktop", "--json").want(t, ExitOK, "token after the log-in")
	var tok tokenJSON
	if err := json.Unmarshal([]byte(r.stdout), &tok); err != nil {
		t.Fatal(err)
	}
	if !contains(tok.Granted, "user/Patient.read") || !tok.Renewable || !tok.HasRefreshToken || tok.Claims["sub"] != "gp" {
		t.Errorf("token --json after the log-in: %s", r.stdout)
	}
	q := c.run("", "query", "desktop", "Patient?_count=2", "--format", "ndjson").want(t, ExitOK, "query with the saved session")
	if strings.Count(q.stdout, "\n") != 2 {
		t.Errorf("query: %s", q.stdout)
	}

	denied, err := c.loginNoBrowser("desktop", "gp", "gp-password", false)
	if err != nil {
		t.Fatalf("the browser: %v", err)
	}
	denied.want(t, ExitAuth, "login denied at the login page")
	if !strings.Contains(denied.stderr, "access_denied") {
		t.Errorf("stderr does not name the refusal: %s", denied.stderr)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Each exit code, from the binary.
func TestE2EExitCodes(t *testing.T) {
	sp := sharedSandbox(t)
	c := newCLI(t)
	c.run(sp.secret("patient-access")+"\n", "profile", "add", "pa", "--base", sp.info.FHIRBase,
		"--client-id", "patient-access", "--client-secret-stdin").want(t, ExitOK, "profile add")
	c.run("not-the-secret\n", "profile", "add", "wrong", "--base", sp.info.FHIRBase,
		"--client-id", "patient-access", "--client-secret-stdin").want(t, ExitOK, "profile add")
	c.run("", "profile", "add", "down", "--base", "http://127.0.0.1:1/fhir").want(t, ExitOK, "profile add")
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--version"}, ExitOK},
		{[]string{"query", "pa", "Patient?_count=1"}, ExitOK},
		{[]string{"discover", sp.info.FHIRBase, "--json"}, ExitOK},
		{[]string{"no-such-command"}, ExitUsage},
		{[]string{"token", "no such profile"}, ExitUsage},
		{[]string{"query", "pa", "not a search"}, ExitUsage},
		{[]string{"show", filepath.Join(fixtures, "Observation-BloodPressure.xml")}, ExitUsage},
		{[]string{"token", "wrong"}, ExitAuth},
		{[]string{"query", "pa", "Observation"}, ExitAuth},
		{[]string{"query", "down", "Patient"}, ExitServer},
		{[]string{"discover", "http://127.0.0.1:1/fhir"}, ExitServer},
	} {
		r := c.run("", tc.args...)
		if r.code != tc.want {
			t.Errorf("%q: exit %d, want %d; stderr: %s", tc.args, r.code, tc.want, r.stderr)
		}
		if tc.want != ExitOK && r.stderr == "" {
			t.Errorf("%q: no message on stderr", tc.args)
		}
	}
	v := c.run("", "--version")
	if !strings.HasPrefix(v.stdout, "ccexplorer ") {
		t.Errorf("--version: %q", v.stdout)
	}
	r := c.run("", "token", "wrong")
	if !strings.Contains(r.stderr, "invalid_client") {
		t.Errorf("the refusal is not named: %s", r.stderr)
	}
}

// No command prints a secret it was given or a token it holds, except
// token --show-token.
func TestE2ESecretsAreNeverPrinted(t *testing.T) {
	sp := sharedSandbox(t)
	c := newCLI(t)
	clientSecret := sp.secret("clinical-access")
	legacySecret := sp.secret("legacy-password")
	const password = "gp-password"
	const wrongSecret = "wrong-secret-9c1f3e7a"
	var all strings.Builder
	record := func(r result) result {
		all.WriteString(r.stdout)
		all.WriteString(r.stderr)
		return r
	}
	record(c.run(clientSecret+"\n", "profile", "add", "clin", "--base", sp.info.FHIRBase, "--client-id", "clinical-access",
		"--client-secret-stdin")).want(t, ExitOK, "profile add")
	record(c.run(legacySecret+"\n"+password+"\n", "profile", "add", "legacy", "--base", sp.info.FHIRBase,
		"--client-id", "legacy-password", "--client-secret-stdin", "--username", "gp", "--password-stdin",
		"--scopes", "offline_access user/Patient.read")).want(t, ExitOK, "profile add (password grant)")
	record(c.run(wrongSecret+"\n", "profile", "add", "wrong", "--base", sp.info.FHIRBase, "--client-id", "clinical-access",
		"--client-secret-stdin")).want(t, ExitOK, "profile add")
	record(c.run("", "token", "wrong")).want(t, ExitAuth, "token with a wrong secret")
	record(c.run(wrongSecret+"\n", "login", "legacy", "--password-stdin")).want(t, ExitAuth, "login with a wrong password")
	record(c.run(password+"\n", "login", "legacy", "--password-stdin")).want(t, ExitOK, "login with the password")

	var tokens []string
	for _, name := range []string{"clin", "legacy"} {
		r := c.run("", "token", name, "--show-token").want(t, ExitOK, "token --show-token")
		tok := strings.TrimSpace(r.stdout)
		if strings.Count(tok, ".") != 2 {
			t.Fatalf("--show-token printed %q, not the token alone", r.stdout)
		}
		tokens = append(tokens, tok)
		js := c.run("", "token", name, "--json", "--show-token").want(t, ExitOK, "token --json --show-token")
		if !strings.Contains(js.stdout, `"access_token": "`+tok+`"`) {
			t.Errorf("token --json --show-token lacks the token")
		}
		for _, args := range [][]string{
			{"token", name}, {"token", name, "--json"}, {"access", name}, {"access", name, "--json", "--probe"},
			{"query", name, "Patient?_count=2", "--format", "json"}, {"profile", "show", name}, {"profile", "show", name, "--json"},
			{"login", name}, {"logout", name},
		} {
			record(c.run("", args...))
		}
	}
	for _, args := range [][]string{{"profile", "list", "--json"}, {"profile", "export"}, {"discover", sp.info.FHIRBase}} {
		record(c.run("", args...))
	}
	for what, secret := range map[string]string{
		"the client secret": clientSecret, "the legacy client's secret": legacySecret,
		"the password": password, "the wrong secret": wrongSecret,
		"an access token": tokens[0], "the password grant's access token": tokens[1],
	} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("%s was printed", what)
		}
	}
}
