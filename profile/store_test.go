package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Environment of the helper process started by tests that need a second
// process (see TestMain).
const (
	envHelper       = "CCEXPLORER_PROFILE_TEST_HELPER"
	envHelperDir    = "CCEXPLORER_PROFILE_TEST_DIR"
	envHelperPrefix = "CCEXPLORER_PROFILE_TEST_PREFIX"
	envHelperCount  = "CCEXPLORER_PROFILE_TEST_COUNT"
	crashExitCode   = 3
)

func TestMain(m *testing.M) {
	if h := os.Getenv(envHelper); h != "" {
		os.Exit(runHelper(h))
	}
	os.Exit(m.Run())
}

// runHelper is the body of a helper process.
func runHelper(kind string) int {
	if h, ok := extraHelpers[kind]; ok {
		return h(os.Getenv(envHelperDir))
	}
	s, err := Open(os.Getenv(envHelperDir))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	switch kind {
	case "add":
		n, _ := strconv.Atoi(os.Getenv(envHelperCount))
		for i := range n {
			if err := s.Add(validProfile(fmt.Sprintf("%s-%d", os.Getenv(envHelperPrefix), i))); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return 0
	case "crash":
		// Die between writing the temporary file and renaming it, as a
		// power cut or kill -9 would.
		s.beforeRename = func(string) error {
			os.Exit(crashExitCode)
			return nil
		}
		_ = s.Add(validProfile("never saved"))
		fmt.Fprintln(os.Stderr, "helper did not crash")
		return 1
	}
	fmt.Fprintln(os.Stderr, "unknown helper", kind)
	return 1
}

// helperCmd returns a command running the helper kind on dir.
func helperCmd(t *testing.T, kind, dir string, extra ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot find the test binary: %v", err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envHelper+"="+kind, envHelperDir+"="+dir)
	cmd.Env = append(cmd.Env, extra...)
	return cmd
}

// openStore opens a Store on a fresh temporary folder.
func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// names returns the profile names of ps.
func names(ps []Profile) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// builtinNames returns the names of the built-in profiles.
func builtinNames() []string { return names(Builtins()) }

// readFile returns a file's content.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenEmptyFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "config")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(s.List()); !slices.Equal(got, builtinNames()) {
		t.Errorf("List() = %q, want the built-ins", got)
	}
	if s.Default() != DefaultProfileName {
		t.Errorf("Default() = %q", s.Default())
	}
	if s.Path() != filepath.Join(dir, FileName) || s.Dir() != dir {
		t.Errorf("Path() = %q, Dir() = %q", s.Path(), s.Dir())
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open wrote the file before any change: %v", err)
	}
}

func TestDefaultDirHonoursEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvConfigDir, dir)
	got, err := DefaultDir()
	if err != nil || got != dir {
		t.Fatalf("DefaultDir() = %q, %v; want %q", got, err, dir)
	}
	s, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	if s.Path() != filepath.Join(dir, FileName) {
		t.Errorf("Open(\"\").Path() = %q", s.Path())
	}

	t.Setenv(EnvConfigDir, "")
	got, err = DefaultDir()
	if err == nil && filepath.Base(got) != AppFolder {
		t.Errorf("DefaultDir() = %q, want the %q folder", got, AppFolder)
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	full := Profile{
		Name:              "CCRI test — ward 7",
		BaseURL:           "https://ccri.example.nhs.uk/ccri-fhir/STU3",
		Grant:             GrantAuthorizationCode,
		ClientID:          "ccri-desktop",
		ClientAuth:        ClientAuthBody,
		Scopes:            []string{"user/Patient.read", "user/MedicationPrescription.read"},
		AuthorizeURL:      "https://auth.example.nhs.uk/authorize",
		TokenURL:          "https://auth.example.nhs.uk/token",
		RevokeURL:         "https://auth.example.nhs.uk/revoke",
		RedirectPort:      8765,
		Audience:          "https://ccri.example.nhs.uk/ccri-fhir/STU3",
		Policy:            PolicyCCRI,
		CACertFile:        filepath.Join(dir, "nhs-ca.pem"),
		Username:          "clinician",
		RememberPassword:  true,
		AllowInsecureHTTP: true,
		Notes:             "Ward 7 test instance.\n\"Quoted\" notes ✓",
	}
	plain := validProfile("plain")
	if err := s.Add(full); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(plain); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDefault(full.Name); err != nil {
		t.Fatal(err)
	}

	// A second Store on the same folder, as after a restart.
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.Get(full.Name)
	if err != nil {
		t.Fatal(err)
	}
	if !got.equal(full) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, full)
	}
	wantNames := append(builtinNames(), full.Name, plain.Name)
	if !slices.Equal(names(s2.List()), wantNames) {
		t.Errorf("List() = %q, want %q", names(s2.List()), wantNames)
	}
	if s2.Default() != full.Name {
		t.Errorf("Default() = %q", s2.Default())
	}
	got, _ = s2.Get(plain.Name)
	if got.ClientAuth != ClientAuthBasic || got.Policy != PolicyAuto {
		t.Errorf("defaults not filled in: %+v", got)
	}

	b := readFile(t, s.Path())
	var head struct {
		SchemaVersion int `json:"schema_version"`
	}
	if err := json.Unmarshal(b, &head); err != nil || head.SchemaVersion != SchemaVersion {
		t.Errorf("schema_version = %d, %v", head.SchemaVersion, err)
	}
	if runtime.GOOS != "windows" {
		info, err := os.Stat(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("file mode = %o, want 600", perm)
		}
	}

	// List returns copies.
	l := s2.List()
	l[len(l)-1].Scopes = append(l[len(l)-1].Scopes, "mutated")
	l[0].Name = "mutated"
	if p, _ := s2.Get(plain.Name); slices.Contains(p.Scopes, "mutated") || s2.List()[0].Name == "mutated" {
		t.Error("List() exposes the Store's state")
	}
}

func TestAddUpdateRemoveDuplicate(t *testing.T) {
	s := openStore(t)
	a := validProfile("a")
	if err := s.Add(a); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(a); !errors.Is(err, ErrExists) {
		t.Errorf("Add twice = %v, want ErrExists", err)
	}
	bad := validProfile("bad")
	bad.BaseURL = "http://example.org/fhir"
	var ve *ValidationError
	if err := s.Add(bad); !errors.As(err, &ve) {
		t.Errorf("Add invalid = %v, want *ValidationError", err)
	}
	fake := validProfile("fake built-in")
	fake.Builtin = true
	if err := s.Add(fake); !errors.Is(err, ErrBuiltin) {
		t.Errorf("Add built-in = %v, want ErrBuiltin", err)
	}
	if _, err := s.Get("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}

	// Rename; the default follows.
	if err := s.SetDefault("a"); err != nil {
		t.Fatal(err)
	}
	renamed := a
	renamed.Name = "b"
	renamed.Notes = "renamed"
	if err := s.Update("a", renamed); err != nil {
		t.Fatal(err)
	}
	if s.Default() != "b" {
		t.Errorf("Default() after rename = %q", s.Default())
	}
	if _, err := s.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old name still present: %v", err)
	}
	if err := s.Update("a", renamed); !errors.Is(err, ErrNotFound) {
		t.Errorf("Update(missing) = %v, want ErrNotFound", err)
	}
	if err := s.Add(validProfile("c")); err != nil {
		t.Fatal(err)
	}
	clash := renamed
	clash.Name = "c"
	if err := s.Update("b", clash); !errors.Is(err, ErrExists) {
		t.Errorf("rename onto c = %v, want ErrExists", err)
	}
	if err := s.SetDefault("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetDefault(missing) = %v", err)
	}

	// Duplicate.
	dup, err := s.Duplicate("b", "")
	if err != nil || dup.Name != "b copy" {
		t.Fatalf("Duplicate = %q, %v", dup.Name, err)
	}
	dup2, err := s.Duplicate("b", "")
	if err != nil || dup2.Name != "b copy (2)" {
		t.Fatalf("second Duplicate = %q, %v", dup2.Name, err)
	}
	if _, err := s.Duplicate("b", "c"); !errors.Is(err, ErrExists) {
		t.Errorf("Duplicate onto c = %v", err)
	}
	if _, err := s.Duplicate("b", "\x01"); !errors.As(err, &ve) {
		t.Errorf("Duplicate with bad name = %v", err)
	}
	sb, err := s.Duplicate(DefaultProfileName, "my sandbox")
	if err != nil || sb.Builtin || sb.SandboxClient != "medication-access" {
		t.Fatalf("Duplicate built-in = %+v, %v", sb, err)
	}
	sb.Scopes = []string{"user/Patient.read"}
	if err := s.Update(sb.Name, sb); err != nil {
		t.Errorf("copy of a built-in is not editable: %v", err)
	}

	// Remove; the default falls back.
	if err := s.Remove("b"); err != nil {
		t.Fatal(err)
	}
	if s.Default() != DefaultProfileName {
		t.Errorf("Default() after removing it = %q", s.Default())
	}
	if err := s.Remove("b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove twice = %v", err)
	}
	want := append(builtinNames(), "c", "b copy", "b copy (2)", "my sandbox")
	s2, err := Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if got := names(s2.List()); !slices.Equal(got, want) {
		t.Errorf("on disk: %q, want %q", got, want)
	}
}

func TestBuiltinsProtected(t *testing.T) {
	s := openStore(t)
	b, err := s.Get(DefaultProfileName)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(DefaultProfileName); !errors.Is(err, ErrBuiltin) || !strings.Contains(err.Error(), "notes") {
		t.Errorf("Remove built-in = %v, want ErrBuiltin saying only notes can change", err)
	}
	renamed := b
	renamed.Name = "mine"
	if err := s.Update(b.Name, renamed); !errors.Is(err, ErrBuiltin) {
		t.Errorf("rename built-in = %v", err)
	}
	changed := b.clone()
	changed.Scopes = []string{"system/*.read"}
	if err := s.Update(b.Name, changed); !errors.Is(err, ErrBuiltin) || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("change built-in scopes = %v", err)
	}
	noted := b
	noted.Notes = "my notes"
	if err := s.Update(b.Name, noted); err != nil {
		t.Fatalf("change built-in notes = %v", err)
	}
	s2, err := Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s2.Get(b.Name); got.Notes != "my notes" || !got.Builtin {
		t.Errorf("built-in after reopen = %+v", got)
	}
	user := validProfile("user")
	if err := s.Add(user); err != nil {
		t.Fatal(err)
	}
	user.Builtin = true
	if err := s.Update("user", user); !errors.Is(err, ErrBuiltin) {
		t.Errorf("turning a profile built-in = %v", err)
	}
}

func TestLoadRepairsWithoutLosingData(t *testing.T) {
	tampered := Builtins()[1]
	tampered.BaseURL = "https://evil.example/fhir"
	tampered.SandboxClient = "admin"
	tampered.Notes = "kept"
	file := fileData{
		SchemaVersion: 1,
		Default:       "gone",
		Profiles: []Profile{
			validProfile("x"),
			tampered,
			validProfile("x"),                // duplicate name (hand-edited)
			validProfile(DefaultProfileName), // user profile with a built-in's name
			{Name: "old built-in", Builtin: true, SandboxClient: "old", Grant: GrantClientCredentials}, // no longer built-in
			{Name: "", BaseURL: "https://e.example", Grant: GrantNone},
		},
	}
	dir := t.TempDir()
	b, _ := json.Marshal(file)
	if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := append(builtinNames(), "x", "x (2)", DefaultProfileName+" (2)", "old built-in", "Unnamed profile")
	if got := names(s.List()); !slices.Equal(got, want) {
		t.Errorf("List() = %q\nwant %q", got, want)
	}
	got, _ := s.Get(tampered.Name)
	def := Builtins()[1]
	def.Notes = "kept"
	if !got.equal(def) {
		t.Errorf("built-in not re-imposed: %+v", got)
	}
	if p, _ := s.Get("old built-in"); p.Builtin {
		t.Error("unknown built-in kept its flag")
	}
	if s.Default() != DefaultProfileName {
		t.Errorf("Default() = %q", s.Default())
	}
}

func TestCrashBeforeRenameKeepsOldFile(t *testing.T) {
	s := openStore(t)
	if err := s.Add(validProfile("kept")); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, s.Path())

	t.Run("in process", func(t *testing.T) {
		var sawTemp bool
		errCrash := errors.New("simulated crash")
		s.beforeRename = func(tmp string) error {
			b := readFile(t, tmp)
			sawTemp = bytes.Contains(b, []byte("lost"))
			return errCrash
		}
		defer func() { s.beforeRename = nil }()
		if err := s.Add(validProfile("lost")); !errors.Is(err, errCrash) {
			t.Fatalf("Add = %v, want the simulated crash", err)
		}
		if !sawTemp {
			t.Error("the temporary file did not hold the new content before the rename")
		}
		if !bytes.Equal(readFile(t, s.Path()), before) {
			t.Error("profile file changed although the rename never happened")
		}
		if _, err := s.Get("lost"); !errors.Is(err, ErrNotFound) {
			t.Error("snapshot shows a change that was not saved")
		}
		assertNoTemps(t, s.Dir())
	})

	t.Run("killed process", func(t *testing.T) {
		cmd := helperCmd(t, "crash", s.Dir())
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != crashExitCode {
			t.Fatalf("helper: %v\n%s", err, out)
		}
		if !bytes.Equal(readFile(t, s.Path()), before) {
			t.Fatal("profile file changed by a process that died before the rename")
		}
		temps, _ := filepath.Glob(filepath.Join(s.Dir(), FileName+".tmp-*"))
		if len(temps) != 1 {
			t.Errorf("want the dead process's temporary file left behind, found %q", temps)
		}
		s2, err := Open(s.Dir())
		if err != nil {
			t.Fatalf("Open after crash: %v", err)
		}
		if _, err := s2.Get("kept"); err != nil {
			t.Error(err)
		}
		if _, err := s2.Get("never saved"); !errors.Is(err, ErrNotFound) {
			t.Error("half-written change visible after the crash")
		}
		if err := s2.Add(validProfile("after")); err != nil {
			t.Fatal(err)
		}
		assertNoTemps(t, s.Dir())
	})
}

// assertNoTemps fails if a temporary file is left in dir.
func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	temps, _ := filepath.Glob(filepath.Join(dir, FileName+".tmp-*"))
	if len(temps) > 0 {
		t.Errorf("temporary files left: %q", temps)
	}
}

func TestCorruptFile(t *testing.T) {
	tests := []struct {
		name, content, wantErr string
	}{
		{"garbage", "\x00\x01 not json", "not valid JSON"},
		{"empty", "", "empty"},
		{"truncated", `{"schema_version": 1, "profiles": [{"name": "a"`, "not valid JSON"},
		{"null", "null", "no schema_version"},
		{"no version", `{"profiles": []}`, "no schema_version"},
		{"bad version", `{"schema_version": "one"}`, "positive whole number"},
		{"zero version", `{"schema_version": 0}`, "positive whole number"},
		{"wrong types", `{"schema_version": 1, "profiles": {"a": 1}}`, "not a valid profile file"},
		{"array", `[1, 2]`, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(dir)
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || s != nil {
				t.Fatalf("Open = %v, %v; want *CorruptError and no Store", s, err)
			}
			if ce.Path != path || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q should name %s and say %q", err, path, tt.wantErr)
			}
			if ce.Backup == "" || !strings.HasPrefix(filepath.Base(ce.Backup), FileName+".corrupt-") {
				t.Fatalf("backup = %q (%v)", ce.Backup, ce.BackupErr)
			}
			if !strings.Contains(err.Error(), ce.Backup) {
				t.Errorf("error %q does not name the backup", err)
			}
			if got := readFile(t, ce.Backup); string(got) != tt.content {
				t.Errorf("backup holds %q", got)
			}
			if got := readFile(t, path); string(got) != tt.content {
				t.Errorf("damaged file was changed to %q", got)
			}

			// Opening again reuses the backup rather than piling up copies.
			_, err = Open(dir)
			var ce2 *CorruptError
			if !errors.As(err, &ce2) || ce2.Backup != ce.Backup {
				t.Errorf("second Open: %v", err)
			}

			// Only OpenFresh, on the user's say, replaces it.
			s, err = OpenFresh(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(s.List()); !slices.Equal(got, builtinNames()) {
				t.Errorf("fresh store = %q", got)
			}
			if got := readFile(t, ce.Backup); string(got) != tt.content {
				t.Error("backup lost")
			}
			if _, err := Open(dir); err != nil {
				t.Errorf("Open after OpenFresh: %v", err)
			}
		})
	}
}

func TestFileDamagedWhileOpen(t *testing.T) {
	s := openStore(t)
	if err := s.Add(validProfile("a")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Path(), []byte("{oops"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(validProfile("b")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Add on damaged file = %v, want ErrCorrupt", err)
	}
	if err := s.Reload(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Reload on damaged file = %v, want ErrCorrupt", err)
	}
	if got := string(readFile(t, s.Path())); got != "{oops" {
		t.Errorf("damaged file overwritten: %q", got)
	}
	if _, err := s.Get("a"); err != nil {
		t.Errorf("snapshot lost after failed reload: %v", err)
	}
}

func TestOpenFreshKeepsGoodFile(t *testing.T) {
	s := openStore(t)
	if err := s.Add(validProfile("a")); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenFresh(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Get("a"); err != nil {
		t.Errorf("OpenFresh discarded a good file: %v", err)
	}
}

func TestNewerSchemaVersion(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	content := `{"schema_version": 2, "profiles": {"new": "shape"}}`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if !errors.Is(err, ErrNewerVersion) || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open = %v, want ErrNewerVersion naming the file", err)
	}
	if got := string(readFile(t, path)); got != content {
		t.Error("newer file changed")
	}
	s, err := OpenFresh(dir)
	if err != nil {
		t.Fatal(err)
	}
	backups, _ := filepath.Glob(filepath.Join(dir, FileName+".newer-*"))
	if len(backups) != 1 || string(readFile(t, backups[0])) != content {
		t.Errorf("backups = %q", backups)
	}
	if len(s.List()) != len(Builtins()) {
		t.Error("fresh store not fresh")
	}
}

func TestUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	// A folder where the file should be: unreadable as a file, for root too.
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if err == nil || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open = %v, want a read error naming %s", err, path)
	}
	if _, err := OpenFresh(dir); err == nil || !strings.Contains(err.Error(), "nothing was replaced") {
		t.Errorf("OpenFresh = %v, want a refusal", err)
	}
}

func TestTwoWritersInProcess(t *testing.T) {
	dir := t.TempDir()
	const perWriter = 15
	stores := make([]*Store, 2)
	for i := range stores {
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*perWriter)
	for w, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				if err := s.Add(validProfile(fmt.Sprintf("w%d-%d", w, i))); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, s := range stores {
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		if got := len(s.List()); got != len(Builtins())+2*perWriter {
			t.Errorf("%d profiles, want %d", got, len(Builtins())+2*perWriter)
		}
	}
}

func TestTwoWritersAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	const perWriter = 15
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for _, prefix := range []string{"proc1", "proc2"} {
		cmd := helperCmd(t, "add", dir, envHelperPrefix+"="+prefix, envHelperCount+"="+strconv.Itoa(perWriter))
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		outs = append(outs, out)
	}
	for i := range perWriter {
		if err := s.Add(validProfile(fmt.Sprintf("parent-%d", i))); err != nil {
			t.Error(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper %d: %v\n%s", i, err, outs[i])
		}
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	got := names(s.List())
	for _, prefix := range []string{"proc1", "proc2", "parent"} {
		for i := range perWriter {
			if name := fmt.Sprintf("%s-%d", prefix, i); !slices.Contains(got, name) {
				t.Errorf("%s lost", name)
			}
		}
	}
	if len(got) != len(Builtins())+3*perWriter {
		t.Errorf("%d profiles, want %d", len(got), len(Builtins())+3*perWriter)
	}
}

func TestConcurrentAddSameName(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	results := make([]error, 4)
	for i := range results {
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.Add(validProfile("same"))
		}()
	}
	wg.Wait()
	var ok, exists int
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrExists):
			exists++
		default:
			t.Error(err)
		}
	}
	if ok != 1 || exists != len(results)-1 {
		t.Errorf("%d succeeded, %d got ErrExists", ok, exists)
	}
}

func TestUpdateConflict(t *testing.T) {
	dir := t.TempDir()
	gui, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := gui.Add(validProfile("shared")); err != nil {
		t.Fatal(err)
	}
	cli, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}

	fromCLI, _ := cli.Get("shared")
	fromCLI.Notes = "changed by the CLI"
	if err := cli.Update("shared", fromCLI); err != nil {
		t.Fatal(err)
	}

	// The GUI still shows the old version; saving it must not silently
	// drop the CLI's change.
	fromGUI, _ := gui.Get("shared")
	fromGUI.Scopes = []string{"user/Patient.read"}
	err = gui.Update("shared", fromGUI)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("stale Update = %v, want ErrConflict", err)
	}
	if latest, _ := gui.Get("shared"); latest.Notes != "changed by the CLI" {
		t.Errorf("snapshot not refreshed after conflict: %+v", latest)
	}
	// Saving again, deliberately, overwrites.
	if err := gui.Update("shared", fromGUI); err != nil {
		t.Fatalf("second Update = %v", err)
	}

	// A change elsewhere does not conflict.
	if err := cli.Add(validProfile("other")); err != nil {
		t.Fatal(err)
	}
	latest, _ := gui.Get("shared")
	latest.Notes = "fine"
	if err := gui.Update("shared", latest); err != nil {
		t.Errorf("Update after unrelated change = %v", err)
	}
	if _, err := gui.Get("other"); err != nil {
		t.Errorf("snapshot misses the other process's profile: %v", err)
	}
}

func TestReplaceChecksTheEditedVersion(t *testing.T) {
	dir := t.TempDir()
	gui, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := gui.Add(validProfile("shared")); err != nil {
		t.Fatal(err)
	}
	// The GUI fills an edit form.
	original, _ := gui.Get("shared")
	edited := original.clone()
	edited.Notes = "edited in the GUI"

	// Meanwhile the CLI changes the profile, and the GUI reloads (say, on
	// focus), which refreshes its snapshot but not the open form.
	cli, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fromCLI, _ := cli.Get("shared")
	fromCLI.ClientID = "changed-by-cli"
	if err := cli.Replace(fromCLI.clone(), fromCLI); !errors.Is(err, ErrConflict) {
		// fromCLI differs from the file, so this is a conflict too.
		t.Fatalf("Replace with a base that is not on disk = %v", err)
	}
	if err := cli.Update("shared", fromCLI); err != nil {
		t.Fatal(err)
	}
	if err := gui.Reload(); err != nil {
		t.Fatal(err)
	}

	if err := gui.Replace(original, edited); !errors.Is(err, ErrConflict) {
		t.Fatalf("Replace of a stale form = %v, want ErrConflict", err)
	}
	latest, _ := gui.Get("shared")
	if latest.ClientID != "changed-by-cli" {
		t.Errorf("latest = %+v", latest)
	}
	// Merging onto the latest version succeeds.
	merged := latest.clone()
	merged.Notes = edited.Notes
	merged.Name = "renamed"
	if err := gui.Replace(latest, merged); err != nil {
		t.Fatal(err)
	}
	got, _ := gui.Get("renamed")
	if got.ClientID != "changed-by-cli" || got.Notes != "edited in the GUI" {
		t.Errorf("merged = %+v", got)
	}
	// A form for a profile renamed meanwhile gets ErrNotFound.
	if err := gui.Replace(original, edited); !errors.Is(err, ErrNotFound) {
		t.Errorf("Replace of a renamed profile = %v, want ErrNotFound", err)
	}

	// Or the user chooses to overwrite the other change: Update.
	stale, _ := gui.Get("renamed")
	if err := cli.Reload(); err != nil {
		t.Fatal(err)
	}
	again, _ := cli.Get("renamed")
	again.Notes = "changed by the CLI again"
	if err := cli.Update("renamed", again); err != nil {
		t.Fatal(err)
	}
	staleEdit := stale.clone()
	staleEdit.Notes = "the GUI wins"
	if err := gui.Replace(stale, staleEdit); !errors.Is(err, ErrConflict) {
		t.Fatalf("Replace = %v, want ErrConflict", err)
	}
	if err := gui.Update("renamed", staleEdit); err != nil {
		t.Fatalf("overwrite with Update = %v", err)
	}
	if got, _ := cli.Get("renamed"); got.Notes != "changed by the CLI again" {
		t.Errorf("cli snapshot changed without a reload: %+v", got)
	}
	if err := cli.Reload(); err != nil {
		t.Fatal(err)
	}
	if got, _ := cli.Get("renamed"); got.Notes != "the GUI wins" {
		t.Errorf("after overwrite: %+v", got)
	}
}
