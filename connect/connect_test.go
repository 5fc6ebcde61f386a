package connect

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/profile"
)

func openWorkspace(t *testing.T, dir string) *Workspace {
	t.Helper()
	t.Setenv(profile.EnvKeyringPassword, "test-passphrase")
	w, err := Open(Options{Dir: dir, KeyringBackend: profile.BackendFile})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if w.SecretsProblem != nil {
		t.Fatalf("keyring: %v", w.SecretsProblem)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func TestBuiltinProfileLogsInAndSearches(t *testing.T) {
	w := openWorkspace(t, t.TempDir())
	ctx := context.Background()
	p, err := w.Store.Get(profile.DefaultProfileName)
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := w.Resolve(ctx, p)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if tgt.Policy != auth.PolicyCCRI {
		t.Errorf("policy on the sandbox = %s (%s), want ccri", tgt.Policy, tgt.PolicyWhy)
	}
	sess, saveErr, err := w.Login(ctx, tgt, LoginOptions{})
	if err != nil || saveErr != nil {
		t.Fatalf("Login: %v / %v", err, saveErr)
	}
	b, err := tgt.FHIR(sess).Search(ctx, "Patient", url.Values{"_count": {"5"}})
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	if len(b.Entries) != 5 {
		t.Errorf("got %d entries, want 5", len(b.Entries))
	}
	for _, a := range tgt.Access(sess, []string{"Patient", "Observation"}) {
		if a.Readability != auth.Readable {
			t.Errorf("medication-access (user/*.read) cannot read %s: %s", a.Type, a.Reason)
		}
	}
}

// A user-made profile pointing at the sandbox: the secret comes from the
// keyring, the session is saved there and a second workspace (a restart)
// resumes it without logging in again.
func TestSessionSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	w := openWorkspace(t, dir)
	ctx := context.Background()
	srv, err := w.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	var secret string
	for _, c := range srv.Info().Clients {
		if c.ClientID == "clinical-access" {
			secret = c.ClientSecret
		}
	}
	p := profile.Profile{
		Name: "sandbox by hand", BaseURL: srv.FHIRBase(), Grant: profile.GrantClientCredentials,
		ClientID: "clinical-access", Scopes: []string{"user/Patient.read"},
	}
	if err := w.Store.Add(p); err != nil {
		t.Fatal(err)
	}
	if err := w.Secrets.Set(p.Name, profile.SecretClientSecret, secret); err != nil {
		t.Fatal(err)
	}
	tgt, err := w.Resolve(ctx, p)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	sess, saveErr, err := w.Login(ctx, tgt, LoginOptions{})
	if err != nil || saveErr != nil {
		t.Fatalf("Login: %v / %v", err, saveErr)
	}
	first := sess.Current().AccessToken

	// The profile file never holds the secret or the token.
	data, err := os.ReadFile(filepath.Join(dir, profile.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), secret) || strings.Contains(string(data), first) {
		t.Fatal("the profile file contains the client secret or the access token")
	}

	w2 := &Workspace{Store: w.Store, Secrets: w.Secrets}
	tgt2, err := w2.Resolve(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	resumed, err := w2.Restore(ctx, tgt2)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if resumed.Current().AccessToken != first {
		t.Error("the restored session carries another token")
	}
	granted, _ := resumed.GrantedScopes()
	if strings.Join(granted, " ") != "user/Patient.read" {
		t.Errorf("restored granted scopes = %v", granted)
	}
	if _, err := tgt2.FHIR(resumed).Search(ctx, "Patient", url.Values{"_count": {"1"}}); err != nil {
		t.Errorf("search with the restored session: %v", err)
	}

	if err := w2.Logout(ctx, tgt2, resumed); err != nil {
		t.Errorf("Logout: %v", err)
	}
	if _, err := w2.Restore(ctx, tgt2); !errors.Is(err, ErrNoSavedSession) {
		t.Errorf("Restore after log-out: %v, want ErrNoSavedSession", err)
	}
}

func TestHTTPClientRefusesCrossOriginAndDowngradeRedirects(t *testing.T) {
	var leaked []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = append(leaked, r.Header.Get("Authorization"))
	}))
	defer other.Close()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer origin.Close()
	hc, err := HTTPClient(profile.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, origin.URL+"/away", nil)
	req.Header.Set("Authorization", "Bearer secret-token")
	if _, err := hc.Do(req); !errors.Is(err, ErrRedirectRefused) {
		t.Errorf("cross-origin redirect: err = %v, want ErrRedirectRefused", err)
	}
	if len(leaked) != 0 {
		t.Errorf("the other origin was contacted %d times", len(leaked))
	}
	resp, err := hc.Get(origin.URL + "/here")
	if err != nil {
		t.Fatalf("same-origin redirect: %v", err)
	}
	resp.Body.Close()
}

func TestResolveRejectsInvalidProfile(t *testing.T) {
	w := openWorkspace(t, t.TempDir())
	_, err := w.Resolve(context.Background(), profile.Profile{Name: "x", BaseURL: "ftp://example", Grant: profile.GrantNone})
	var ve *profile.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a validation error", err)
	}
}
