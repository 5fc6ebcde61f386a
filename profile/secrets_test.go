package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/99designs/keyring"
)

// Secret values used by the tests; none may ever reach a profile file, an
// export or an error message.
const (
	testClientSecret = "cs-7f3a9c-SECRET-client"
	testPassword     = "pw-Tr0ub4dor&3-SECRET"
	testAccessToken  = "eyJhbGciOiJSUzI1NiJ9.SECRET-access.sig"
	testRefreshToken = "rt-91ab-SECRET-refresh"
	testPassphrase   = "correct horse battery staple"
)

var allTestSecrets = []string{testClientSecret, testPassword, testAccessToken, testRefreshToken}

// testBackends returns a fresh Secrets per real backend used in tests: the
// in-memory array keyring and the encrypted file backend in a temporary
// folder.
func testBackends(t *testing.T) map[string]func(t *testing.T) *Secrets {
	return map[string]func(t *testing.T) *Secrets{
		"array": func(t *testing.T) *Secrets {
			return NewSecrets("array", keyring.NewArrayKeyring(nil))
		},
		"file": func(t *testing.T) *Secrets {
			s, err := OpenSecrets(SecretsConfig{
				Backend:    BackendFile,
				FileDir:    filepath.Join(t.TempDir(), "keyring"),
				Passphrase: func(string) (string, error) { return testPassphrase, nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

func TestSecretsBackends(t *testing.T) {
	t.Setenv(EnvKeyringPassword, "")
	for name, open := range testBackends(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			if !s.Persistent() && name == "file" {
				t.Error("file backend not persistent")
			}
			const prof = "CCRI test / ward 7: ü?*"
			if _, err := s.Get(prof, SecretClientSecret); !errors.Is(err, ErrNoSecret) {
				t.Errorf("Get before Set = %v, want ErrNoSecret", err)
			}
			if err := s.Set(prof, SecretClientSecret, testClientSecret); err != nil {
				t.Fatal(err)
			}
			if err := s.Set(prof, SecretPassword, testPassword); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Get(prof, SecretClientSecret); err != nil || got != testClientSecret {
				t.Errorf("Get = %q, %v", got, err)
			}
			// Names that differ only in escaped characters do not collide.
			if _, err := s.Get("CCRI test %2F ward 7: ü?*", SecretClientSecret); !errors.Is(err, ErrNoSecret) {
				t.Errorf("escaped look-alike name found a secret: %v", err)
			}

			tok := Token{
				AccessToken:  testAccessToken,
				TokenType:    "Bearer",
				RefreshToken: testRefreshToken,
				Expiry:       time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
				Scope:        "user/Patient.read user/Observation.read",
				ScopeSource:  "token response",
				Obtained:     time.Date(2030, 1, 2, 2, 4, 5, 0, time.UTC),
			}
			if _, err := s.LoadToken(prof); !errors.Is(err, ErrNoSecret) {
				t.Errorf("LoadToken before SaveToken = %v", err)
			}
			if err := s.SaveToken(prof, tok); err != nil {
				t.Fatal(err)
			}
			got, err := s.LoadToken(prof)
			if err != nil || got != tok {
				t.Errorf("LoadToken = %+v, %v; want %+v", got, err, tok)
			}

			// Rename moves everything.
			if err := s.Move(prof, "renamed"); err != nil {
				t.Fatal(err)
			}
			for _, k := range SecretKinds {
				if _, err := s.Get(prof, k); !errors.Is(err, ErrNoSecret) {
					t.Errorf("%s left under the old name: %v", k, err)
				}
				if _, err := s.Get("renamed", k); err != nil {
					t.Errorf("%s not moved: %v", k, err)
				}
			}
			if err := s.Copy("renamed", "copy", SecretClientSecret); err != nil {
				t.Fatal(err)
			}
			if v, _ := s.Get("copy", SecretClientSecret); v != testClientSecret {
				t.Error("client secret not copied")
			}
			if _, err := s.Get("copy", SecretPassword); !errors.Is(err, ErrNoSecret) {
				t.Error("Copy copied a kind it was not asked to")
			}

			// Log out keeps the client secret.
			if err := s.ForgetSession("renamed"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.LoadToken("renamed"); !errors.Is(err, ErrNoSecret) {
				t.Errorf("session survived ForgetSession: %v", err)
			}
			if _, err := s.Get("renamed", SecretClientSecret); err != nil {
				t.Errorf("ForgetSession removed the client secret: %v", err)
			}

			// A refresh token alone is a session.
			if err := s.SaveToken("rt only", Token{RefreshToken: testRefreshToken}); err != nil {
				t.Fatal(err)
			}
			if got, err := s.LoadToken("rt only"); err != nil || got.RefreshToken != testRefreshToken || got.AccessToken != "" {
				t.Errorf("refresh-only LoadToken = %+v, %v", got, err)
			}

			// Empty value deletes; deleting what is absent is fine.
			if err := s.Set("renamed", SecretPassword, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get("renamed", SecretPassword); !errors.Is(err, ErrNoSecret) {
				t.Error("empty Set did not delete")
			}
			if err := s.DeleteAll("renamed"); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteAll("never existed"); err != nil {
				t.Errorf("DeleteAll of nothing = %v", err)
			}
			if _, err := s.Get("renamed", SecretClientSecret); !errors.Is(err, ErrNoSecret) {
				t.Error("DeleteAll left the client secret")
			}
		})
	}
}

func TestFileBackendEncryptsAndAsksOnce(t *testing.T) {
	t.Setenv(EnvKeyringPassword, "")
	dir := filepath.Join(t.TempDir(), "keyring")
	asked := 0
	s, err := OpenSecrets(SecretsConfig{
		Backend: BackendFile,
		FileDir: dir,
		Passphrase: func(prompt string) (string, error) {
			asked++
			if !strings.Contains(prompt, dir) || !strings.HasPrefix(prompt, "Choose") {
				t.Errorf("prompt %q does not ask for a new passphrase for the keyring folder", prompt)
			}
			return testPassphrase, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != BackendFile {
		t.Errorf("Backend() = %q", s.Backend())
	}
	if asked != 0 {
		t.Error("passphrase asked before first use")
	}
	if err := s.Set("p", SecretClientSecret, testClientSecret); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("p", SecretPassword, testPassword); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveToken("p", Token{AccessToken: testAccessToken, RefreshToken: testRefreshToken}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadToken("p"); err != nil {
		t.Fatal(err)
	}
	if asked != 1 {
		t.Errorf("passphrase asked %d times, want once", asked)
	}
	assertNoSecretsIn(t, dir, allTestSecrets...)

	// Another run with a wrong passphrase: a clear error, asked again next
	// time, and the right one works.
	answers := []string{"wrong", testPassphrase}
	asked = 0
	s2, err := OpenSecrets(SecretsConfig{Backend: BackendFile, FileDir: dir,
		Passphrase: func(prompt string) (string, error) {
			asked++
			if strings.HasPrefix(prompt, "Choose") {
				t.Errorf("prompt %q treats an existing keyring as new", prompt)
			}
			return answers[asked-1], nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s2.LoadToken("p")
	if !errors.Is(err, ErrWrongPassphrase) || !errors.Is(err, ErrKeyringUnavailable) {
		t.Fatalf("LoadToken with wrong passphrase = %v, want ErrWrongPassphrase", err)
	}
	assertNoSecretIn(t, err.Error(), testPassphrase, "wrong")
	got, err := s2.LoadToken("p")
	if err != nil || got.AccessToken != testAccessToken || got.RefreshToken != testRefreshToken {
		t.Fatalf("LoadToken after the right passphrase = %v", err)
	}
	if asked != 2 {
		t.Errorf("asked %d times, want 2", asked)
	}

	// A stray file in the folder (a desktop's metadata, say) does not make
	// the right passphrase look wrong.
	// Without the check item (a keyring written by another tool), the
	// passphrase is proven on the items themselves.
	if err := os.WriteFile(filepath.Join(dir, "Thumbs.db"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, passCheckKey)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		pass    string
		wantErr error
	}{{"wrong", ErrWrongPassphrase}, {testPassphrase, nil}} {
		s4, _ := OpenSecrets(SecretsConfig{Backend: BackendFile, FileDir: dir,
			Passphrase: func(string) (string, error) { return tt.pass, nil }})
		if err := s4.Unlock(); !errors.Is(err, tt.wantErr) {
			t.Errorf("Unlock(%q) with a stray file and no check item = %v, want %v", tt.pass, err, tt.wantErr)
		}
	}

	// A passphrase the user cancels.
	s3, _ := OpenSecrets(SecretsConfig{Backend: BackendFile, FileDir: dir,
		Passphrase: func(string) (string, error) { return "", errors.New("cancelled") }})
	if err := s3.Unlock(); !errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("Unlock with cancelled prompt = %v", err)
	}
}

func TestKeyringFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvConfigDir, dir)
	t.Setenv(EnvKeyringBackend, "file")
	t.Setenv(EnvKeyringPassword, testPassphrase)
	s, err := OpenSecrets(SecretsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("p", SecretClientSecret, testClientSecret); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keyring")); err != nil {
		t.Errorf("file keyring not under the config folder: %v", err)
	}

	// A headless run with the wrong passphrase says which variable is wrong.
	t.Setenv(EnvKeyringPassword, "wrong")
	s2, err := OpenSecrets(SecretsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Get("p", SecretClientSecret); !errors.Is(err, ErrWrongPassphrase) || !strings.Contains(err.Error(), EnvKeyringPassword) {
		t.Errorf("Get = %v, want ErrWrongPassphrase naming %s", err, EnvKeyringPassword)
	}

	t.Setenv(EnvKeyringBackend, "memory")
	m, err := OpenSecrets(SecretsConfig{})
	if err != nil || m.Backend() != BackendMemory || m.Persistent() {
		t.Errorf("memory backend: %v, %v", m, err)
	}
}

func TestOpenSecretsUnavailable(t *testing.T) {
	t.Setenv(EnvKeyringPassword, "")
	notHere := "wincred"
	if runtime.GOOS == "windows" {
		notHere = "keychain"
	}
	aFile := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(aFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     SecretsConfig
		wantMsg string
	}{
		{"unknown backend", SecretsConfig{Backend: "vault"}, "secret-service"},
		{"backend not on this OS", SecretsConfig{Backend: notHere}, "not available"},
		{"file without passphrase", SecretsConfig{Backend: BackendFile, FileDir: t.TempDir()}, EnvKeyringPassword},
		{"file folder is a file", SecretsConfig{Backend: BackendFile, FileDir: aFile,
			Passphrase: func(string) (string, error) { return "x", nil }}, "not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenSecrets(tt.cfg)
			if s != nil || !errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("OpenSecrets = %v, %v; want ErrKeyringUnavailable mentioning %q", s, err, tt.wantMsg)
			}
			if !strings.Contains(err.Error(), "could not be opened") {
				t.Errorf("message %q does not say the keyring could not be opened", err)
			}
		})
	}
}

// brokenKeyring fails every call, like a locked or vanished OS keyring.
type brokenKeyring struct{}

var errBroken = errors.New("org.freedesktop.secrets was not provided by any .service files")

func (brokenKeyring) Get(string) (keyring.Item, error) { return keyring.Item{}, errBroken }
func (brokenKeyring) GetMetadata(string) (keyring.Metadata, error) {
	return keyring.Metadata{}, errBroken
}
func (brokenKeyring) Set(keyring.Item) error  { return errBroken }
func (brokenKeyring) Remove(string) error     { return errBroken }
func (brokenKeyring) Keys() ([]string, error) { return nil, errBroken }

func TestKeyringUnavailableProfilesStillWork(t *testing.T) {
	s := openStore(t)
	sec := NewSecrets("secret-service", brokenKeyring{})
	s.SetSecrets(sec)

	// Saving a session fails clearly, without the secret in the message.
	err := sec.SaveToken("p", Token{AccessToken: testAccessToken, RefreshToken: testRefreshToken})
	if !errors.Is(err, ErrKeyringUnavailable) || !errors.Is(err, errBroken) {
		t.Fatalf("SaveToken = %v, want ErrKeyringUnavailable wrapping the cause", err)
	}
	assertNoSecretIn(t, err.Error(), allTestSecrets...)
	if err := sec.Set("p", SecretClientSecret, testClientSecret); !errors.Is(err, ErrKeyringUnavailable) {
		t.Errorf("Set = %v", err)
	} else {
		assertNoSecretIn(t, err.Error(), allTestSecrets...)
		if !strings.Contains(err.Error(), `client secret of profile "p"`) {
			t.Errorf("message %q does not say which secret", err)
		}
	}
	if _, err := sec.LoadToken("p"); !errors.Is(err, ErrKeyringUnavailable) || errors.Is(err, ErrNoSecret) {
		t.Errorf("LoadToken = %v", err)
	}

	// Profiles still work; keyring failures are reported after the change.
	if err := s.Add(validProfile("p")); err != nil {
		t.Fatal(err)
	}
	p, _ := s.Get("p")
	p.Name = "q"
	if err := s.Update("p", p); !errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), "was renamed") {
		t.Errorf("rename = %v, want a keyring error saying the rename was saved", err)
	}
	if _, err := s.Duplicate("q", "r"); !errors.Is(err, ErrKeyringUnavailable) {
		t.Errorf("Duplicate = %v", err)
	}
	if err := s.Remove("q"); !errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), "was removed") {
		t.Errorf("Remove = %v, want a keyring error saying the profile was removed", err)
	}
	s2, err := Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Get("q"); !errors.Is(err, ErrNotFound) {
		t.Error("profile not removed when the keyring failed")
	}
	if _, err := s2.Get("r"); err != nil {
		t.Error("duplicate not saved when the keyring failed")
	}

	// The app's fallback: this run only.
	m := MemorySecrets()
	s.SetSecrets(m)
	if err := m.SaveToken("r", Token{AccessToken: testAccessToken}); err != nil {
		t.Fatal(err)
	}
	if m.Persistent() {
		t.Error("memory secrets claim to persist")
	}
}

func TestStoreKeepsSecretsWithProfiles(t *testing.T) {
	t.Setenv(EnvKeyringPassword, "")
	for name, open := range testBackends(t) {
		t.Run(name, func(t *testing.T) {
			s := openStore(t)
			sec := open(t)
			s.SetSecrets(sec)
			if err := s.Add(validProfile("a")); err != nil {
				t.Fatal(err)
			}
			if err := sec.Set("a", SecretClientSecret, testClientSecret); err != nil {
				t.Fatal(err)
			}
			if err := sec.SaveToken("a", Token{AccessToken: testAccessToken, RefreshToken: testRefreshToken}); err != nil {
				t.Fatal(err)
			}

			// Rename moves.
			p, _ := s.Get("a")
			p.Name = "b"
			if err := s.Update("a", p); err != nil {
				t.Fatal(err)
			}
			if v, err := sec.Get("b", SecretClientSecret); err != nil || v != testClientSecret {
				t.Errorf("client secret not moved: %v", err)
			}
			if _, err := sec.LoadToken("b"); err != nil {
				t.Errorf("session not moved: %v", err)
			}
			if _, err := sec.Get("a", SecretClientSecret); !errors.Is(err, ErrNoSecret) {
				t.Errorf("secret left under the old name: %v", err)
			}

			// Duplicate copies the client secret, not the session.
			if _, err := s.Duplicate("b", "c"); err != nil {
				t.Fatal(err)
			}
			if v, _ := sec.Get("c", SecretClientSecret); v != testClientSecret {
				t.Error("client secret not copied")
			}
			if _, err := sec.LoadToken("c"); !errors.Is(err, ErrNoSecret) {
				t.Errorf("session copied: %v", err)
			}

			// Remove removes.
			if err := s.Remove("b"); err != nil {
				t.Fatal(err)
			}
			for _, k := range SecretKinds {
				if _, err := sec.Get("b", k); !errors.Is(err, ErrNoSecret) {
					t.Errorf("%s survived Remove: %v", k, err)
				}
			}
			if v, _ := sec.Get("c", SecretClientSecret); v != testClientSecret {
				t.Error("removing b removed c's secret")
			}
		})
	}
}

func TestSecretsNeverInProfileFile(t *testing.T) {
	t.Setenv(EnvKeyringPassword, "")
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The file keyring lives in the config folder, as it does by default;
	// it is the only place the secrets may be (encrypted).
	keyringDir := filepath.Join(dir, "keyring")
	sec, err := OpenSecrets(SecretsConfig{Backend: BackendFile, FileDir: keyringDir,
		Passphrase: func(string) (string, error) { return testPassphrase, nil }})
	if err != nil {
		t.Fatal(err)
	}
	s.SetSecrets(sec)

	p := validProfile("ward 7")
	p.Grant = GrantPassword
	p.Username = "clinician"
	p.RememberPassword = true
	if err := s.Add(p); err != nil {
		t.Fatal(err)
	}
	for kind, v := range map[SecretKind]string{SecretClientSecret: testClientSecret, SecretPassword: testPassword} {
		if err := sec.Set(p.Name, kind, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := sec.SaveToken(p.Name, Token{AccessToken: testAccessToken, RefreshToken: testRefreshToken, Expiry: time.Now()}); err != nil {
		t.Fatal(err)
	}
	p.Name = "ward 7b"
	if err := s.Update("ward 7", p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Duplicate(p.Name, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDefault(p.Name); err != nil {
		t.Fatal(err)
	}
	export, err := s.Export()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(export); err != nil {
		t.Fatal(err)
	}
	// Someone hand-adds a secret to an export: it is ignored, never saved.
	leaky := bytes.Replace(export, []byte(`"name": "ward 7b"`),
		[]byte(`"name": "leaky", "client_secret": "`+testClientSecret+`", "password": "`+testPassword+`"`), 1)
	added, err := s.Import(leaky)
	if err != nil || len(added) != 1 {
		t.Fatalf("Import(leaky) = %v, %v", added, err)
	}

	assertNoSecretsIn(t, dir, allTestSecrets...) // every file: profiles, lock, keyring
	if !bytes.Contains(readFile(t, s.Path()), []byte("ward 7b")) {
		t.Fatal("the search would not find anything: the profile file lacks the profile")
	}
	assertNoSecretIn(t, string(export), allTestSecrets...)

	// The secrets are where they belong.
	if v, err := sec.Get("ward 7b", SecretPassword); err != nil || v != testPassword {
		t.Errorf("password not in the keyring: %v", err)
	}
}

func TestTokenPrintsNoSecrets(t *testing.T) {
	tok := Token{AccessToken: testAccessToken, RefreshToken: testRefreshToken, TokenType: "Bearer", Scope: "user/*.read"}
	for _, out := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), fmt.Sprint(&tok)} {
		assertNoSecretIn(t, out, allTestSecrets...)
		if !strings.Contains(out, "user/*.read") || !strings.Contains(out, "[redacted]") {
			t.Errorf("token printed as %q", out)
		}
	}
}

func TestSecretKeys(t *testing.T) {
	tests := []struct{ profile, want string }{
		{"CCRI test", "CCRI test/client_secret"},
		{"a/b", "a%2Fb/client_secret"},
		{"50%", "50%25/client_secret"},
		{"ü", "%C3%BC/client_secret"},
		{"..", "%2E%2E/client_secret"},
		{`C:\x`, `C%3A%5Cx/client_secret`},
	}
	for _, tt := range tests {
		if got := secretKey(tt.profile, SecretClientSecret); got != tt.want {
			t.Errorf("secretKey(%q) = %q, want %q", tt.profile, got, tt.want)
		}
	}
}

// assertNoSecretsIn fails if any file under root contains one of secrets.
func assertNoSecretsIn(t *testing.T, root string, secrets ...string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains the secret %.6s…", path, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no files under %s to search", root)
	}
}

// assertNoSecretIn fails if text contains one of secrets.
func assertNoSecretIn(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%q contains the secret %.6s…", text, s)
		}
	}
}
