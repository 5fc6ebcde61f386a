package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// Faults on the way to disk: a full disk, a folder that cannot be written or
// created. Each gives a clear error, the app keeps running with its
// profiles, and nothing already saved is lost.

// extraHelpers are helper-process kinds defined outside store_test.go; the
// helper gets the folder of envHelperDir.
var extraHelpers = map[string]func(dir string) int{
	"readonly": func(dir string) int {
		if err := checkReadOnlyFolder(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	},
}

func TestDiskFullWhileSaving(t *testing.T) {
	s := openStore(t)
	if err := s.Add(validProfile("kept")); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, s.Path())
	s.beforeRename = func(tmp string) error {
		return &fs.PathError{Op: "write", Path: tmp, Err: syscall.ENOSPC}
	}
	changes := map[string]func() error{
		"add":     func() error { return s.Add(validProfile("lost")) },
		"update":  func() error { p := validProfile("kept"); p.Notes = "lost"; return s.Update("kept", p) },
		"remove":  func() error { return s.Remove("kept") },
		"default": func() error { return s.SetDefault("kept") },
		"import": func() error {
			data, _ := s.Export("kept")
			_, err := s.Import(bytes.Replace(data, []byte(`"kept"`), []byte(`"imported"`), 1))
			return err
		},
	}
	for name, change := range changes {
		err := change()
		if !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("%s on a full disk: %v, want ErrDiskFull", name, err)
			continue
		}
		for _, want := range []string{"disk is full", "nothing was changed", s.Path()} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: message %q does not say %q", name, err, want)
			}
		}
	}
	if !bytes.Equal(readFile(t, s.Path()), before) {
		t.Error("the profile file changed although no save succeeded")
	}
	assertNoTemps(t, s.Dir())
	// The snapshot does not claim what was not saved.
	if p, err := s.Get("kept"); err != nil || p.Notes != "" {
		t.Errorf("kept = %+v, %v", p, err)
	}
	for _, name := range []string{"lost", "imported"} {
		if _, err := s.Get(name); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s is in the snapshot although it was never saved", name)
		}
	}
	if s.Default() != DefaultProfileName {
		t.Errorf("default %q although it was never saved", s.Default())
	}
	// Once there is space again, saving works and nothing was lost.
	s.beforeRename = nil
	if err := s.Add(validProfile("after")); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kept", "after"} {
		if _, err := s2.Get(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Any other failure to write (permissions on the file system, an I/O error)
// leaves the file and the snapshot alone in the same way.
func TestWriteFailureKeepsTheFile(t *testing.T) {
	s := openStore(t)
	if err := s.Add(validProfile("kept")); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, s.Path())
	for _, cause := range []error{syscall.EACCES, syscall.EROFS, syscall.EIO} {
		s.beforeRename = func(tmp string) error { return &fs.PathError{Op: "write", Path: tmp, Err: cause} }
		err := s.Add(validProfile("lost"))
		if !errors.Is(err, cause) || !strings.Contains(err.Error(), s.Path()) {
			t.Errorf("Add with %v: %v", cause, err)
		}
		if cause != syscall.EIO && (!errors.Is(err, ErrNotWritable) || !strings.Contains(err.Error(), "not writable")) {
			t.Errorf("Add with %v: %v, want ErrNotWritable", cause, err)
		}
		if !bytes.Equal(readFile(t, s.Path()), before) {
			t.Fatalf("the file changed (%v)", cause)
		}
		if _, err := s.Get("lost"); !errors.Is(err, ErrNotFound) {
			t.Errorf("the snapshot shows an unsaved profile (%v)", cause)
		}
	}
	assertNoTemps(t, s.Dir())
}

// checkReadOnlyFolder checks a Store on a folder this process can read but
// not write, holding a file with the profile "kept": it opens, lists and
// says it is read-only; a change fails with ErrNotWritable naming the
// folder; the file and the snapshot are unchanged.
func checkReadOnlyFolder(dir string) error {
	path := filepath.Join(dir, FileName)
	before, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s, err := Open(dir)
	if err != nil {
		return fmt.Errorf("Open on a read-only folder: %w", err)
	}
	if _, err := s.Get("kept"); err != nil {
		return fmt.Errorf("the saved profile is not usable: %w", err)
	}
	if ro := s.ReadOnly(); !errors.Is(ro, ErrNotWritable) {
		return fmt.Errorf("ReadOnly() = %v, want ErrNotWritable", ro)
	}
	err = s.Add(validProfile("new"))
	if !errors.Is(err, ErrNotWritable) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "not writable") {
		return fmt.Errorf("Add on a read-only folder: %v, want ErrNotWritable naming %s", err, dir)
	}
	if _, err := s.Get("new"); !errors.Is(err, ErrNotFound) {
		return errors.New("the snapshot shows a profile that was not saved")
	}
	if _, err := s.Get("kept"); err != nil {
		return fmt.Errorf("after a failed save the saved profile is gone: %w", err)
	}
	if err := s.Reload(); err != nil {
		return fmt.Errorf("Reload on a read-only folder: %w", err)
	}
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		return fmt.Errorf("the profile file changed (%v)", err)
	}
	return nil
}

func TestConfigFolderNotWritable(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("folder permissions work differently on Windows")
	}
	// A folder 0755 with a readable profile file, owned by this process's
	// user; read-only below means "to another user" (as root, whom
	// permission bits do not stop) or mode 0555 (as anyone else).
	base, err := os.MkdirTemp("", "ccexplorer-readonly-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(base)
	})
	dir := filepath.Join(base, "config")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(validProfile("kept")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{base, dir} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(s.Path(), 0o644); err != nil {
		t.Fatal(err)
	}

	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		if err := checkReadOnlyFolder(dir); err != nil {
			t.Fatal(err)
		}
		return
	}
	// As root: run the check in a helper process as the unprivileged user
	// "nobody", from a copy of this test binary it may execute.
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot find the test binary: %v", err)
	}
	bin := filepath.Join(base, "profile.test")
	if err := copyFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), envHelper+"=readonly", envHelperDir+"="+dir)
	if !runAsNobody(cmd) {
		t.Skip("cannot start a process as another user here")
	}
	cmd.Dir = base
	out, err := cmd.CombinedOutput()
	if err != nil {
		if len(out) == 0 {
			t.Skipf("cannot run a helper process as nobody: %v", err)
		}
		t.Fatalf("as a user who cannot write %s: %v\n%s", dir, err, out)
	}
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// A config folder that cannot be created (here its parent is a file, which
// stops root too) gives a clear error naming the folder.
func TestConfigFolderCannotBeCreated(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "ccexplorer")
	_, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), "create config folder "+dir) {
		t.Fatalf("Open = %v, want an error naming the folder", err)
	}
	if _, err := OpenFresh(dir); err == nil {
		t.Error("OpenFresh on an impossible folder succeeded")
	}
}
