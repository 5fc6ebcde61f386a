package connect

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
	"github.com/careconnectexplorer/ccexplorer/profile"
	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

// secretSet collects the secret values a test has put through the app and
// the places it has looked for them.
type secretSet struct {
	t      *testing.T
	mu     sync.Mutex
	values map[string]string // value -> what it is
}

func (s *secretSet) add(what, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(v) < 8 {
		s.t.Fatalf("secret %s %q is too short to search for", what, v)
	}
	// The forms a leak could take: as it is, form-encoded, and base64 (a
	// Basic header, or a token inside a JWT-shaped blob).
	if q := url.QueryEscape(v); q != v {
		s.values[q] = what + " (form-encoded)"
	}
	s.values[base64.StdEncoding.EncodeToString([]byte(v))] = what + " (base64)"
	s.values[v] = what
}

// check fails the test if text holds any secret.
func (s *secretSet) check(where, text string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for v, what := range s.values {
		if strings.Contains(text, v) {
			s.t.Errorf("%s contains the %s", where, what)
		}
	}
}

// checkLog looks at every field of every request log entry.
func (s *secretSet) checkLog(where string, l *fhirclient.RequestLog) {
	s.t.Helper()
	for i, e := range l.Entries() {
		s.check(fmt.Sprintf("%s entry %d", where, i), fmt.Sprintf("%s\n%+v\n%#v\n%v", e.String(), e, e, e.Header))
	}
}

// captureLogs sends the standard and structured loggers' output to a buffer
// for the rest of the test.
func captureLogs(t *testing.T) *lockedBuffer {
	var buf lockedBuffer
	oldOut, oldFlags := log.Writer(), log.Flags()
	oldSlog := slog.Default()
	log.SetOutput(&buf)
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() {
		log.SetOutput(oldOut)
		log.SetFlags(oldFlags)
		slog.SetDefault(oldSlog)
	})
	return &buf
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSecretsNeverLeak puts known client secrets, passwords and tokens
// through every path of a session against the sandbox and against servers
// that echo what they are sent, and looks for them in the logs, the request
// log, every error message, the printed form of every value that holds
// them, the profile file and the export.
func TestSecretsNeverLeak(t *testing.T) {
	logs := captureLogs(t)
	dir := t.TempDir()
	w := openWorkspace(t, dir)
	w.SandboxConfig = sandbox.Config{Patients: 5}
	ctx := context.Background()
	srv, err := w.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	info := srv.Info()
	secrets := &secretSet{t: t, values: map[string]string{}}
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var printed []any // values holding secrets, printed at the end

	clientSecret := func(id string) string {
		for _, c := range info.Clients {
			if c.ClientID == id {
				return c.ClientSecret
			}
		}
		t.Fatalf("no sandbox client %s", id)
		return ""
	}

	// 1. Client credentials: a user-made profile, its secret in the keyring.
	cc := profile.Profile{Name: "cc", BaseURL: srv.FHIRBase(), Grant: profile.GrantClientCredentials,
		ClientID: sandbox.ClientClinicalAccess, Scopes: []string{"user/Patient.read", "user/Observation.read"}}
	ccSecret := clientSecret(sandbox.ClientClinicalAccess)
	secrets.add("client secret", ccSecret)
	if err := w.Store.Add(cc); err != nil {
		t.Fatal(err)
	}
	if err := w.Secrets.Set(cc.Name, profile.SecretClientSecret, ccSecret); err != nil {
		t.Fatal(err)
	}
	tgt, err := w.Resolve(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	sess, saveErr, err := w.Login(ctx, tgt, LoginOptions{})
	if err != nil || saveErr != nil {
		t.Fatalf("Login: %v / %v", err, saveErr)
	}
	secrets.add("access token", sess.Current().AccessToken)
	fc := tgt.FHIR(sess)
	if _, err := fc.Search(ctx, "Patient", url.Values{"_count": {"2"}}); err != nil {
		t.Fatal(err)
	}
	_, err = fc.Search(ctx, "MedicationRequest", nil) // 403: not in the token's scopes
	if !errors.Is(err, fhirclient.ErrForbidden) {
		t.Errorf("MedicationRequest: %v, want 403", err)
	}
	keep(err)
	keep(func() error { _, err := fc.Read(ctx, "Patient", "no-such-id"); return err }())
	printed = append(printed, tgt, *tgt, sess, sess.Info(), w, w.Secrets,
		tgt.Discovery.ClientCredentials(cc.ClientID, ccSecret, cc.Scopes, ""),
		tgt.Discovery.AuthorizationCode(cc.ClientID, ccSecret, cc.Scopes, ""),
		auth.Revocation{Endpoint: info.RevocationEndpoint, ClientID: cc.ClientID, ClientSecret: ccSecret})

	// 2. The password grant, remembering the password.
	pw := profile.Profile{Name: "pw", BaseURL: srv.FHIRBase(), Grant: profile.GrantPassword,
		ClientID: sandbox.ClientLegacyPassword, Username: "gp", RememberPassword: true,
		Scopes: []string{"offline_access", "user/Patient.read"}}
	pwSecret, password := clientSecret(sandbox.ClientLegacyPassword), ""
	for _, u := range info.Users {
		if u.Username == "gp" {
			password = u.Password
		}
	}
	secrets.add("password-grant client secret", pwSecret)
	secrets.add("password", password)
	if err := w.Store.Add(pw); err != nil {
		t.Fatal(err)
	}
	if err := w.Secrets.Set(pw.Name, profile.SecretClientSecret, pwSecret); err != nil {
		t.Fatal(err)
	}
	pwTgt, err := w.Resolve(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = w.Login(ctx, pwTgt, LoginOptions{Password: "wrong-" + password})
	if err == nil {
		t.Fatal("a wrong password logged in")
	}
	keep(err)
	pwSess, saveErr, err := w.Login(ctx, pwTgt, LoginOptions{Password: password})
	if err != nil || saveErr != nil {
		t.Fatalf("password Login: %v / %v", err, saveErr)
	}
	secrets.add("password-grant access token", pwSess.Current().AccessToken)
	if rt := pwSess.Current().RefreshToken; rt != "" {
		secrets.add("refresh token", rt)
	} else {
		t.Error("the password grant gave no refresh token")
	}
	keep(pwSess.Renew(ctx)) // nil on success
	secrets.add("renewed access token", pwSess.Current().AccessToken)
	printed = append(printed, pwTgt, pwSess, pwSess.Info(),
		pwTgt.Discovery.PasswordGrant(pw.ClientID, pwSecret, pw.Username, password, pw.Scopes, ""))

	// 3. A wrong client secret.
	if err := w.Secrets.Set(cc.Name, profile.SecretClientSecret, "wrong-"+ccSecret); err != nil {
		t.Fatal(err)
	}
	secrets.add("wrong client secret", "wrong-"+ccSecret)
	badTgt, err := w.Resolve(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = w.Login(ctx, badTgt, LoginOptions{})
	if err == nil {
		t.Fatal("a wrong client secret logged in")
	}
	keep(err)

	// 4. An expired token: the session refuses to send it, and the server
	// refuses a token it no longer accepts.
	clock := time.Now().Add(2 * time.Hour)
	expired := auth.NewSession(&oauth2.Token{AccessToken: sess.Current().AccessToken, TokenType: "Bearer",
		Expiry: time.Now().Add(time.Hour)}, nil, func() time.Time { return clock })
	_, err = tgt.FHIR(expired).Search(ctx, "Patient", nil)
	if !errors.Is(err, auth.ErrExpired) {
		t.Errorf("search with an expired session: %v", err)
	}
	keep(err)
	const forged = "opaque-forged-token-0123456789"
	secrets.add("forged token", forged)
	forgedFC := tgt.FHIR(auth.NewSession(&oauth2.Token{AccessToken: forged, TokenType: "Bearer"}, nil, nil))
	_, err = forgedFC.Search(ctx, "Patient", nil)
	if !errors.Is(err, fhirclient.ErrUnauthorized) {
		t.Errorf("search with a forged token: %v, want 401", err)
	}
	keep(err)

	// 5. Servers that echo the request — Authorization header included — in
	// their error answers, as text, as HTML and as an OperationOutcome, for
	// a JWT and an opaque token alike.
	echoed := func(r *http.Request) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
		for k, vs := range r.Header {
			fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(vs, ", "))
		}
		auth := r.Header.Get("Authorization")
		fmt.Fprintf(&b, "token=%s raw %s", strings.TrimPrefix(auth, "Bearer "), strings.TrimPrefix(auth, "Bearer "))
		return b.String()
	}
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		text := echoed(r)
		switch {
		case strings.Contains(r.URL.Path, "Observation"):
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"security","diagnostics":%q,"details":{"text":%q}}]}`, text, text)
		case strings.Contains(r.URL.Path, "Condition"):
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, "<html><body><pre>%s</pre></body></html>", text)
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, text)
		}
	}))
	defer echo.Close()
	const opaque = "opaque-token-value-9f8e7d6c5b4a"
	secrets.add("opaque token", opaque)
	hc, err := HTTPClient(profile.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{opaque, sess.Current().AccessToken} {
		s := auth.NewSession(&oauth2.Token{AccessToken: tok, TokenType: "Bearer"}, nil, nil)
		efc := fhirclient.New(echo.URL+"/fhir", s.HTTPClient(hc))
		for _, typ := range []string{"Patient", "Observation", "Condition"} {
			_, err := efc.Search(ctx, typ, nil)
			if err == nil {
				t.Fatalf("the echoing server's %s answer was accepted", typ)
			}
			keep(err)
			var he *fhirclient.HTTPError
			if errors.As(err, &he) {
				secrets.check("HTTPError fields of "+typ, fmt.Sprintf("%+v %+v %q", *he, he.Outcome, he.Issues))
			}
		}
		secrets.checkLog("echo request log", efc.Log())
	}

	// 6. Log-out (revocation), and the session forgotten.
	keep(w.Logout(ctx, tgt, sess))
	keep(w.Logout(ctx, pwTgt, pwSess))

	// Now look everywhere.
	for i, err := range errs {
		secrets.check(fmt.Sprintf("error %d (%v)", i, err), fmt.Sprintf("%v %+v %#v", err, err, err))
	}
	secrets.checkLog("request log", fc.Log())
	secrets.checkLog("forged-token request log", forgedFC.Log())
	for i, v := range printed {
		secrets.check(fmt.Sprintf("printed value %d (%T)", i, v), fmt.Sprintf("%v\n%+v\n%s\n%#v", v, v, v, v))
	}
	file, err := os.ReadFile(filepath.Join(dir, profile.FileName))
	if err != nil {
		t.Fatal(err)
	}
	secrets.check("the profile file", string(file))
	export, err := w.Store.Export()
	if err != nil {
		t.Fatal(err)
	}
	secrets.check("the profile export", string(export))
	for _, name := range []string{"cc", "pw"} {
		p, _ := w.Store.Get(name)
		secrets.check("profile "+name, fmt.Sprintf("%v %+v %#v", p, p, p))
	}
	secrets.check("the logs", logs.String())
	// Nothing but the keyring's encrypted files holds a secret on disk.
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(path, string(filepath.Separator)+"keyring"+string(filepath.Separator)) {
			return err
		}
		b, _ := os.ReadFile(path)
		secrets.check("file "+path, string(b))
		return nil
	})
}
