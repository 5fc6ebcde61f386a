package connect

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/99designs/keyring"

	"github.com/careconnectexplorer/ccexplorer/profile"
	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

// Keyring faults: missing, locked, failing. Each gives a clear error, the
// profiles keep working, and only the remembering of secrets and sessions
// is lost.

// brokenRing fails every call, like a locked or vanished OS keyring.
type brokenRing struct{}

var errRingGone = errors.New("org.freedesktop.secrets was not provided by any .service files")

func (brokenRing) Get(string) (keyring.Item, error) { return keyring.Item{}, errRingGone }
func (brokenRing) GetMetadata(string) (keyring.Metadata, error) {
	return keyring.Metadata{}, errRingGone
}
func (brokenRing) Set(keyring.Item) error  { return errRingGone }
func (brokenRing) Remove(string) error     { return errRingGone }
func (brokenRing) Keys() ([]string, error) { return nil, errRingGone }

// sandboxProfile is a user-made client credentials profile on the workspace's
// sandbox, with its client secret.
func sandboxProfile(t *testing.T, w *Workspace, name string) (profile.Profile, string) {
	t.Helper()
	srv, err := w.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range srv.Info().Clients {
		if c.ClientID == sandbox.ClientClinicalAccess {
			return profile.Profile{Name: name, BaseURL: srv.FHIRBase(), Grant: profile.GrantClientCredentials,
				ClientID: c.ClientID, Scopes: []string{"user/Patient.read"}}, c.ClientSecret
		}
	}
	t.Fatal("no clinical-access client")
	return profile.Profile{}, ""
}

// A keyring that cannot be opened (no such backend here, no passphrase for
// the file backend): the workspace opens with secrets kept for this run and
// says why; log-ins work.
func TestKeyringMissing(t *testing.T) {
	t.Setenv(profile.EnvKeyringPassword, "")
	for _, backend := range []string{"no-such-backend", profile.BackendFile} {
		t.Run(backend, func(t *testing.T) {
			w, err := Open(Options{Dir: t.TempDir(), KeyringBackend: backend})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer w.Close()
			if !errors.Is(w.SecretsProblem, profile.ErrKeyringUnavailable) || w.SecretsProblem.Error() == "" {
				t.Fatalf("SecretsProblem = %v, want ErrKeyringUnavailable", w.SecretsProblem)
			}
			if w.Secrets == nil || w.Secrets.Persistent() {
				t.Fatalf("Secrets = %v, want this run's memory", w.Secrets)
			}
			p, secret := sandboxProfile(t, w, "by hand")
			if err := w.Store.Add(p); err != nil {
				t.Fatal(err)
			}
			if err := w.Secrets.Set(p.Name, profile.SecretClientSecret, secret); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			tgt, err := w.Resolve(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			sess, saveErr, err := w.Login(ctx, tgt, LoginOptions{})
			if err != nil || saveErr != nil {
				t.Fatalf("Login: %v / %v", err, saveErr)
			}
			if _, err := tgt.FHIR(sess).Search(ctx, "Patient", url.Values{"_count": {"1"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Restore(ctx, tgt); err != nil {
				t.Errorf("Restore within the run: %v", err)
			}
		})
	}
}

// The file keyring unlocked with a wrong passphrase: a clear error for what
// needs a secret; the profile list and the sandbox keep working.
func TestKeyringLocked(t *testing.T) {
	dir := t.TempDir()
	w := openWorkspace(t, dir)
	p, secret := sandboxProfile(t, w, "by hand")
	if err := w.Store.Add(p); err != nil {
		t.Fatal(err)
	}
	if err := w.Secrets.Set(p.Name, profile.SecretClientSecret, secret); err != nil {
		t.Fatal(err)
	}
	w.Close()

	t.Setenv(profile.EnvKeyringPassword, "")
	asked := 0
	w2, err := Open(Options{Dir: dir, KeyringBackend: profile.BackendFile,
		Passphrase: func(string) (string, error) { asked++; return "not-the-passphrase", nil }})
	if err != nil || w2.SecretsProblem != nil {
		t.Fatalf("Open: %v / %v", err, w2.SecretsProblem)
	}
	defer w2.Close()
	ctx := context.Background()
	_, err = w2.Resolve(ctx, p)
	if !errors.Is(err, profile.ErrWrongPassphrase) || !errors.Is(err, profile.ErrKeyringUnavailable) {
		t.Fatalf("Resolve with a locked keyring: %v, want ErrWrongPassphrase", err)
	}
	if !strings.Contains(err.Error(), "client secret") || strings.Contains(err.Error(), secret) ||
		strings.Contains(err.Error(), "not-the-passphrase") {
		t.Errorf("message %q", err)
	}
	if asked == 0 {
		t.Error("the passphrase was never asked for")
	}
	// The profiles are all there, and can be changed.
	if _, err := w2.Store.Get(p.Name); err != nil {
		t.Fatal(err)
	}
	if err := w2.Store.Add(profile.Profile{Name: "another", BaseURL: "https://fhir.example/STU3", Grant: profile.GrantNone}); err != nil {
		t.Fatal(err)
	}
	// The built-in sandbox needs no keyring.
	sb, err := w2.Store.Get(profile.DefaultProfileName)
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := w2.Resolve(ctx, sb)
	if err != nil {
		t.Fatal(err)
	}
	if _, saveErr, err := w2.Login(ctx, tgt, LoginOptions{}); err != nil || saveErr != nil {
		t.Fatalf("sandbox Login with a locked keyring: %v / %v", err, saveErr)
	}
}

// A keyring that fails after the secret was read: the log-in succeeds, the
// session is simply not remembered, and Restore says why.
func TestKeyringFailsWhileSavingTheSession(t *testing.T) {
	w := openWorkspace(t, t.TempDir())
	p, secret := sandboxProfile(t, w, "by hand")
	if err := w.Store.Add(p); err != nil {
		t.Fatal(err)
	}
	if err := w.Secrets.Set(p.Name, profile.SecretClientSecret, secret); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tgt, err := w.Resolve(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	w.Secrets = profile.NewSecrets("secret-service", brokenRing{})
	w.Store.SetSecrets(w.Secrets)
	sess, saveErr, err := w.Login(ctx, tgt, LoginOptions{})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if !errors.Is(saveErr, profile.ErrKeyringUnavailable) || !errors.Is(saveErr, errRingGone) {
		t.Fatalf("saveErr = %v, want the keyring failure", saveErr)
	}
	if strings.Contains(saveErr.Error(), sess.Current().AccessToken) || strings.Contains(saveErr.Error(), secret) {
		t.Errorf("saveErr %q holds a secret", saveErr)
	}
	if _, err := tgt.FHIR(sess).Search(ctx, "Patient", url.Values{"_count": {"1"}}); err != nil {
		t.Errorf("search after an unsaved log-in: %v", err)
	}
	if _, err := w.Restore(ctx, tgt); !errors.Is(err, profile.ErrKeyringUnavailable) {
		t.Errorf("Restore = %v, want the keyring failure", err)
	}
	if err := w.Logout(ctx, tgt, sess); !errors.Is(err, profile.ErrKeyringUnavailable) {
		t.Errorf("Logout = %v, want it to say the session could not be forgotten", err)
	}
	// The profile file is intact and holds no secret.
	data, err := os.ReadFile(filepath.Join(w.Store.Dir(), profile.FileName))
	if err != nil || !strings.Contains(string(data), p.Name) || strings.Contains(string(data), secret) {
		t.Errorf("profile file: %v", err)
	}
}

// A config folder that cannot be created: Open fails with an error naming
// it (the window then shows the message and keeps running).
func TestOpenOnAnImpossibleFolder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{Dir: filepath.Join(file, "config"), KeyringBackend: profile.BackendMemory})
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("Open = %v, want an error naming the folder", err)
	}
}
