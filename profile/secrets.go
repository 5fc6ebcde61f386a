package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/keyring"
)

// Names of the keyring service and environment variables.
const (
	// KeyringService is the service name under which secrets are stored.
	KeyringService = "org.careconnectexplorer.ccexplorer"
	// EnvKeyringBackend selects the keyring backend: auto (the default),
	// file, memory, keychain, wincred, secret-service, kwallet, pass or
	// keyctl.
	EnvKeyringBackend = "CCEXPLORER_KEYRING_BACKEND"
	// EnvKeyringPassword is the passphrase of the encrypted file backend, for
	// headless use.
	EnvKeyringPassword = "CCEXPLORER_KEYRING_PASSWORD"
)

// Keyring backend names for SecretsConfig.Backend and EnvKeyringBackend.
const (
	// BackendAuto uses the OS keyring (Keychain, Windows Credential Manager,
	// Secret Service, KWallet) if one is available, else the encrypted file.
	BackendAuto = "auto"
	// BackendFile is the library's encrypted file backend (one file per
	// secret, in FileDir, encrypted with a passphrase).
	BackendFile = "file"
	// BackendMemory keeps secrets in memory only: nothing survives the run.
	BackendMemory = "memory"
)

// SecretKind names one kind of secret kept for a profile.
type SecretKind string

// The kinds of secret kept for a profile.
const (
	SecretClientSecret SecretKind = "client_secret"
	SecretPassword     SecretKind = "password"
	SecretRefreshToken SecretKind = "refresh_token"
	// SecretAccessToken holds the current access token as JSON with its
	// expiry and scope (see Token), so a session survives a restart.
	SecretAccessToken SecretKind = "access_token"
)

// SecretKinds lists every kind of secret.
var SecretKinds = []SecretKind{SecretClientSecret, SecretPassword, SecretRefreshToken, SecretAccessToken}

// String returns a human-readable name for messages.
func (k SecretKind) String() string { return strings.ReplaceAll(string(k), "_", " ") }

var (
	// ErrKeyringUnavailable is matched (errors.Is) by every error from the
	// keyring: it could not be opened, unlocked, read or written. Profiles
	// still work; secrets and the session are just not remembered.
	ErrKeyringUnavailable = errors.New("the keyring is not available")
	// ErrWrongPassphrase means the passphrase does not unlock the encrypted
	// file keyring. The next keyring call asks again.
	ErrWrongPassphrase = errors.New("the passphrase does not unlock the keyring file")
	// ErrNoSecret means the keyring holds no such secret for the profile.
	ErrNoSecret = errors.New("no such secret in the keyring")
)

// KeyringError is an error from the keyring. It matches
// ErrKeyringUnavailable and wraps the cause. It never contains a secret
// value.
type KeyringError struct {
	// Op is what failed: "open", "unlock", "read", "store" or "remove".
	Op string
	// Backend is the keyring backend's name.
	Backend string
	// Profile and Kind say which secret, when the error concerns one.
	Profile string
	Kind    SecretKind
	// Err is the cause.
	Err error
}

// Error describes the failure in plain words.
func (e *KeyringError) Error() string {
	what := "the keyring"
	if e.Backend != "" {
		what = fmt.Sprintf("the keyring (%s)", e.Backend)
	}
	switch {
	case e.Profile != "" && e.Kind != "":
		return fmt.Sprintf("%s: could not %s the %s of profile %q: %v", what, e.Op, e.Kind, e.Profile, e.Err)
	case e.Op == "open":
		return fmt.Sprintf("%s could not be opened: %v", what, e.Err)
	}
	return fmt.Sprintf("%s: could not %s: %v", what, e.Op, e.Err)
}

// Unwrap returns ErrKeyringUnavailable and the cause.
func (e *KeyringError) Unwrap() []error { return []error{ErrKeyringUnavailable, e.Err} }

// PassphraseFunc asks the user for the encrypted file keyring's passphrase;
// prompt says which keyring, and starts with "Choose" when the keyring is new
// (the UI may then ask for the passphrase twice). It is called at most once
// per run when it succeeds (again after a wrong passphrase).
type PassphraseFunc func(prompt string) (string, error)

// SecretsConfig configures OpenSecrets. The zero value is usable.
type SecretsConfig struct {
	// Backend is a backend name (see EnvKeyringBackend); "" means the
	// environment variable, or BackendAuto if that is unset.
	Backend string
	// FileDir is the encrypted file backend's folder; "" means "keyring" in
	// DefaultDir().
	FileDir string
	// Passphrase asks for the file backend's passphrase when
	// CCEXPLORER_KEYRING_PASSWORD is unset.
	Passphrase PassphraseFunc
	// ServiceName is the keyring service; "" means KeyringService.
	ServiceName string
}

// osBackends are the OS keyrings tried, in order, by BackendAuto.
var osBackends = []keyring.BackendType{
	keyring.WinCredBackend,
	keyring.KeychainBackend,
	keyring.SecretServiceBackend,
	keyring.KWalletBackend,
}

// namedBackends maps the names accepted by OpenSecrets to keyring backends.
var namedBackends = map[string]keyring.BackendType{
	"keychain":       keyring.KeychainBackend,
	"wincred":        keyring.WinCredBackend,
	"secret-service": keyring.SecretServiceBackend,
	"kwallet":        keyring.KWalletBackend,
	"pass":           keyring.PassBackend,
	"keyctl":         keyring.KeyCtlBackend,
	BackendFile:      keyring.FileBackend,
}

// passCheckKey is the item that proves a passphrase unlocks the file backend.
const passCheckKey = "ccexplorer-passphrase-check"

// Secrets stores profile secrets in a keyring: client secrets, remembered
// passwords, refresh tokens and the current access token, under keys
// "<profile name>/<kind>" (the name escaped). It is safe for concurrent use.
// Secret values never appear in its errors.
type Secrets struct {
	mu      sync.Mutex
	backend string
	ring    keyring.Keyring // nil until the file backend is unlocked

	// File backend only.
	fileDir    string
	passphrase PassphraseFunc
}

// OpenSecrets opens the keyring chosen by cfg.Backend or
// CCEXPLORER_KEYRING_BACKEND. With BackendAuto it uses the first OS keyring
// that opens, else the encrypted file backend. The file backend's
// passphrase comes from CCEXPLORER_KEYRING_PASSWORD or cfg.Passphrase and is
// asked for on first use, once per run. An error matches
// ErrKeyringUnavailable; the app can then carry on with MemorySecrets.
func OpenSecrets(cfg SecretsConfig) (*Secrets, error) {
	name := strings.ToLower(strings.TrimSpace(cfg.Backend))
	if name == "" {
		name = strings.ToLower(strings.TrimSpace(os.Getenv(EnvKeyringBackend)))
	}
	if name == "" {
		name = BackendAuto
	}
	if cfg.ServiceName == "" {
		cfg.ServiceName = KeyringService
	}
	if name == BackendMemory {
		return MemorySecrets(), nil
	}
	if name == BackendFile {
		return openFileSecrets(cfg)
	}
	var allowed []keyring.BackendType
	if name == BackendAuto {
		allowed = osBackends
	} else if b, ok := namedBackends[name]; ok {
		allowed = []keyring.BackendType{b}
	} else {
		return nil, &KeyringError{Op: "open", Backend: name,
			Err: fmt.Errorf("unknown backend; %s must be one of %s", EnvKeyringBackend, strings.Join(backendNames(), ", "))}
	}
	available := keyring.AvailableBackends()
	var usable []keyring.BackendType
	for _, b := range allowed {
		if slices.Contains(available, b) {
			usable = append(usable, b)
		}
	}
	for _, b := range usable {
		ring, err := keyring.Open(keyringConfig(cfg, []keyring.BackendType{b}))
		if err == nil {
			return &Secrets{backend: string(b), ring: ring}, nil
		}
		if name != BackendAuto {
			return nil, &KeyringError{Op: "open", Backend: name, Err: err}
		}
	}
	if name == BackendAuto {
		sec, err := openFileSecrets(cfg)
		var ke *KeyringError
		if errors.As(err, &ke) {
			ke.Err = fmt.Errorf("no OS keyring is available, and %w", ke.Err)
		}
		return sec, err
	}
	return nil, &KeyringError{Op: "open", Backend: name, Err: errors.New("this backend is not available on this system")}
}

// backendNames lists the accepted backend names.
func backendNames() []string {
	names := []string{BackendAuto, BackendMemory}
	for n := range namedBackends {
		names = append(names, n)
	}
	slices.Sort(names[2:])
	return names
}

// keyringConfig is the keyring library's configuration for the app.
func keyringConfig(cfg SecretsConfig, allowed []keyring.BackendType) keyring.Config {
	return keyring.Config{
		AllowedBackends:                allowed,
		ServiceName:                    cfg.ServiceName,
		KeychainTrustApplication:       true,
		KeychainAccessibleWhenUnlocked: true,
		KWalletAppID:                   AppFolder,
		KWalletFolder:                  cfg.ServiceName,
		WinCredPrefix:                  cfg.ServiceName,
		PassPrefix:                     AppFolder,
		FileDir:                        cfg.FileDir,
		// No backend chosen here may prompt on its own terminal.
		FilePasswordFunc: func(string) (string, error) {
			return "", errors.New("no passphrase")
		},
	}
}

// openFileSecrets prepares the encrypted file backend. It checks that a
// passphrase source exists; the passphrase itself is asked for on first use.
func openFileSecrets(cfg SecretsConfig) (*Secrets, error) {
	dir := cfg.FileDir
	if dir == "" {
		base, err := DefaultDir()
		if err != nil {
			return nil, &KeyringError{Op: "open", Backend: BackendFile, Err: err}
		}
		dir = filepath.Join(base, "keyring")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, &KeyringError{Op: "open", Backend: BackendFile, Err: err}
	}
	if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		return nil, &KeyringError{Op: "open", Backend: BackendFile, Err: fmt.Errorf("%s is a file, not a folder", dir)}
	}
	if os.Getenv(EnvKeyringPassword) == "" && cfg.Passphrase == nil {
		return nil, &KeyringError{Op: "open", Backend: BackendFile,
			Err: fmt.Errorf("the encrypted file keyring needs a passphrase: set %s", EnvKeyringPassword)}
	}
	return &Secrets{backend: BackendFile, fileDir: dir, passphrase: cfg.Passphrase}, nil
}

// MemorySecrets returns a Secrets that keeps secrets in memory for this run
// only: the fallback when the keyring is unavailable.
func MemorySecrets() *Secrets {
	return NewSecrets(BackendMemory, keyring.NewArrayKeyring(nil))
}

// NewSecrets wraps an open keyring (for example keyring.NewArrayKeyring in
// tests); backend names it in messages.
func NewSecrets(backend string, ring keyring.Keyring) *Secrets {
	return &Secrets{backend: backend, ring: ring}
}

// Backend returns the name of the keyring backend in use.
func (s *Secrets) Backend() string { return s.backend }

// String names the backend; printing a Secrets (with any verb; GoString for
// %#v) never shows what it holds.
func (s *Secrets) String() string {
	if s == nil {
		return "profile.Secrets(nil)"
	}
	return "profile.Secrets{backend: " + s.backend + "}"
}

// GoString is String.
func (s *Secrets) GoString() string { return s.String() }

// Persistent reports whether secrets outlive the run (false for the memory
// backend).
func (s *Secrets) Persistent() bool { return s.backend != BackendMemory }

// Unlock makes sure the keyring is ready, asking for the file backend's
// passphrase now rather than on first use. Other backends need nothing.
func (s *Secrets) Unlock() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.keyringLocked()
	return err
}

// keyringLocked returns the keyring, unlocking the file backend on first
// use. The caller holds s.mu.
func (s *Secrets) keyringLocked() (keyring.Keyring, error) {
	if s.ring != nil {
		return s.ring, nil
	}
	fail := func(err error) (keyring.Keyring, error) {
		return nil, &KeyringError{Op: "unlock", Backend: s.backend, Err: err}
	}
	pass, fromEnv := os.Getenv(EnvKeyringPassword), true
	if pass == "" {
		fromEnv = false
		if s.passphrase == nil {
			return fail(fmt.Errorf("no passphrase: set %s", EnvKeyringPassword))
		}
		var err error
		prompt := fmt.Sprintf("Passphrase for the Care Connect Explorer keyring in %s", s.fileDir)
		if keyringIsNew(s.fileDir) {
			prompt = fmt.Sprintf("Choose a passphrase for the new Care Connect Explorer keyring in %s", s.fileDir)
		}
		pass, err = s.passphrase(prompt)
		if err != nil {
			return fail(fmt.Errorf("passphrase: %w", err))
		}
		if pass == "" {
			return fail(errors.New("an empty passphrase is not allowed"))
		}
	}
	ring, err := keyring.Open(keyring.Config{
		AllowedBackends:  []keyring.BackendType{keyring.FileBackend},
		FileDir:          s.fileDir,
		FilePasswordFunc: keyring.FixedStringPrompt(pass),
	})
	if err != nil {
		return fail(err)
	}
	if err := checkPassphrase(ring); err != nil {
		if errors.Is(err, ErrWrongPassphrase) && fromEnv {
			err = fmt.Errorf("%s: %w", EnvKeyringPassword, err)
		}
		return fail(err)
	}
	s.ring = ring
	return ring, nil
}

// checkPassphrase proves that the file keyring's passphrase is right: it
// decrypts the check item, or, if there is none yet (a keyring written by
// another tool), any other item. A keyring with no items adopts the
// passphrase by storing the check item.
func checkPassphrase(ring keyring.Keyring) error {
	_, err := ring.Get(passCheckKey)
	if err == nil {
		return nil
	}
	if !errors.Is(err, keyring.ErrKeyNotFound) {
		return fmt.Errorf("%w (or the file is damaged): %v", ErrWrongPassphrase, err)
	}
	keys, err := ring.Keys()
	if err != nil {
		return err
	}
	var firstErr error
	for _, k := range keys {
		if strings.HasPrefix(k, ".") {
			continue
		}
		_, err := ring.Get(k)
		if err == nil {
			firstErr = nil
			break
		}
		if firstErr == nil && !errors.Is(err, keyring.ErrKeyNotFound) {
			firstErr = err
		}
	}
	if firstErr != nil {
		return fmt.Errorf("%w (or the file is damaged): %v", ErrWrongPassphrase, firstErr)
	}
	return ring.Set(keyring.Item{Key: passCheckKey, Label: "Care Connect Explorer passphrase check", Data: []byte("ok")})
}

// keyringIsNew reports whether the file keyring folder holds no item yet.
func keyringIsNew(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return true
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			return false
		}
	}
	return true
}

// escapeName makes a profile name safe as part of a key for every backend
// (the file backend uses it as a file name): letters, digits, space, '-'
// and '_' stay; every other byte becomes %XX.
func escapeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// secretKey returns the keyring key of one secret of a profile.
func secretKey(profile string, kind SecretKind) string {
	return escapeName(profile) + "/" + string(kind)
}

// Get returns a secret of a profile, or an error wrapping ErrNoSecret if
// there is none.
func (s *Secrets) Get(profile string, kind SecretKind) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.getLocked(profile, kind)
	return string(b), err
}

// getLocked is Get; the caller holds s.mu.
func (s *Secrets) getLocked(profile string, kind SecretKind) ([]byte, error) {
	ring, err := s.keyringLocked()
	if err != nil {
		return nil, err
	}
	item, err := ring.Get(secretKey(profile, kind))
	if errors.Is(err, keyring.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %s of profile %q", ErrNoSecret, kind, profile)
	}
	if err != nil {
		return nil, &KeyringError{Op: "read", Backend: s.backend, Profile: profile, Kind: kind, Err: err}
	}
	return item.Data, nil
}

// Set stores a secret of a profile. An empty value deletes it.
func (s *Secrets) Set(profile string, kind SecretKind, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if value == "" {
		return s.deleteLocked(profile, kind)
	}
	return s.setLocked(profile, kind, []byte(value))
}

// setLocked stores a non-empty secret; the caller holds s.mu.
func (s *Secrets) setLocked(profile string, kind SecretKind, value []byte) error {
	ring, err := s.keyringLocked()
	if err != nil {
		return err
	}
	err = ring.Set(keyring.Item{
		Key:         secretKey(profile, kind),
		Data:        value,
		Label:       fmt.Sprintf("Care Connect Explorer: %s (%s)", profile, kind),
		Description: "Care Connect Explorer " + kind.String(),
	})
	if err != nil {
		return &KeyringError{Op: "store", Backend: s.backend, Profile: profile, Kind: kind, Err: err}
	}
	return nil
}

// Delete removes a secret of a profile; a missing secret is not an error.
func (s *Secrets) Delete(profile string, kind SecretKind) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteLocked(profile, kind)
}

// deleteLocked is Delete; the caller holds s.mu.
func (s *Secrets) deleteLocked(profile string, kind SecretKind) error {
	ring, err := s.keyringLocked()
	if err != nil {
		return err
	}
	err = ring.Remove(secretKey(profile, kind))
	if err == nil || errors.Is(err, keyring.ErrKeyNotFound) || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return &KeyringError{Op: "remove", Backend: s.backend, Profile: profile, Kind: kind, Err: err}
}

// DeleteAll removes every secret of a profile. It tries every kind and
// returns the joined errors.
func (s *Secrets) DeleteAll(profile string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, k := range SecretKinds {
		if err := s.deleteLocked(profile, k); err != nil {
			errs = append(errs, err)
			if isUnlockError(err) {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// Move moves every secret of profile from to profile to (a rename),
// replacing what to had.
func (s *Secrets) Move(from, to string) error {
	if from == to {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transferLocked(from, to, SecretKinds, true)
}

// Copy copies the given kinds of secret (none: every kind) of profile from
// to profile to. Kinds that from lacks are left alone.
func (s *Secrets) Copy(from, to string, kinds ...SecretKind) error {
	if from == to {
		return nil
	}
	if len(kinds) == 0 {
		kinds = SecretKinds
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transferLocked(from, to, kinds, false)
}

// transferLocked copies (or, with move, moves) kinds of secret from one
// profile to another; the caller holds s.mu. It carries on past a failed
// kind unless the keyring cannot be unlocked at all.
func (s *Secrets) transferLocked(from, to string, kinds []SecretKind, move bool) error {
	var errs []error
	for _, k := range kinds {
		v, err := s.getLocked(from, k)
		if errors.Is(err, ErrNoSecret) {
			if move {
				// Whatever "to" had belonged to an older profile of that name.
				err = s.deleteLocked(to, k)
			} else {
				err = nil
			}
		} else if err == nil {
			err = s.setLocked(to, k, v)
			if err == nil && move {
				err = s.deleteLocked(from, k)
			}
		}
		if err != nil {
			errs = append(errs, err)
			if isUnlockError(err) {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// isUnlockError reports whether err is a failure to open or unlock the
// keyring, after which further calls would fail the same way.
func isUnlockError(err error) bool {
	var ke *KeyringError
	return errors.As(err, &ke) && (ke.Op == "unlock" || ke.Op == "open")
}

// Token is a saved OAuth2 session: the access token with its expiry and
// scope, and the refresh token (stored under its own key). Its String and
// GoString methods hide the token values, so printing one leaks nothing.
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type,omitempty"`
	// RefreshToken is stored separately, under SecretRefreshToken.
	RefreshToken string `json:"-"`
	// Expiry is when the access token expires; zero means unknown.
	Expiry time.Time `json:"expiry,omitzero"`
	// Scope is the granted scope, space-separated.
	Scope string `json:"scope,omitempty"`
	// ScopeSource says where Scope came from (for example "token
	// response", "claims" or "requested").
	ScopeSource string `json:"scope_source,omitempty"`
	// Obtained is when the token was issued or refreshed.
	Obtained time.Time `json:"obtained,omitzero"`
}

// String describes the token without its values.
func (t Token) String() string {
	return fmt.Sprintf("Token{type=%q scope=%q expiry=%s access_token=%s refresh_token=%s}",
		t.TokenType, t.Scope, t.Expiry.Format(time.RFC3339), redacted(t.AccessToken), redacted(t.RefreshToken))
}

// GoString is String, so %#v leaks nothing either.
func (t Token) GoString() string { return "profile." + t.String() }

func redacted(v string) string {
	if v == "" {
		return "none"
	}
	return "[redacted]"
}

// SaveToken stores a session for the profile: the access token (with
// expiry and scope) and the refresh token. An empty refresh token deletes
// the stored one.
func (s *Secrets) SaveToken(profile string, t Token) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode token: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.AccessToken == "" {
		err = s.deleteLocked(profile, SecretAccessToken)
	} else {
		err = s.setLocked(profile, SecretAccessToken, b)
	}
	if err != nil {
		return err
	}
	if t.RefreshToken == "" {
		return s.deleteLocked(profile, SecretRefreshToken)
	}
	return s.setLocked(profile, SecretRefreshToken, []byte(t.RefreshToken))
}

// LoadToken returns the saved session of the profile, or an error wrapping
// ErrNoSecret if there is none. A session may hold only a refresh token (the
// access token is empty then). The caller checks Expiry.
func (s *Secrets) LoadToken(profile string) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t Token
	b, err := s.getLocked(profile, SecretAccessToken)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &t); err != nil {
			return Token{}, &KeyringError{Op: "read", Backend: s.backend, Profile: profile, Kind: SecretAccessToken,
				Err: errors.New("the saved access token is not valid JSON")}
		}
	case !errors.Is(err, ErrNoSecret):
		return Token{}, err
	}
	rt, err := s.getLocked(profile, SecretRefreshToken)
	switch {
	case err == nil:
		t.RefreshToken = string(rt)
	case !errors.Is(err, ErrNoSecret):
		return Token{}, err
	}
	if t.AccessToken == "" && t.RefreshToken == "" {
		return Token{}, fmt.Errorf("%w: no saved session for profile %q", ErrNoSecret, profile)
	}
	return t, nil
}

// ForgetSession deletes the saved access and refresh tokens of a profile
// (log out), keeping its client secret and password.
func (s *Secrets) ForgetSession(profile string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.deleteLocked(profile, SecretAccessToken), s.deleteLocked(profile, SecretRefreshToken))
}
