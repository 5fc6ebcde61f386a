package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Names of the app's config folder, profile file and environment variable.
const (
	// EnvConfigDir overrides the folder holding the profile file (tests,
	// portable installs).
	EnvConfigDir = "CCEXPLORER_CONFIG_DIR"
	// AppFolder is the app's folder inside os.UserConfigDir().
	AppFolder = "ccexplorer"
	// FileName is the profile file's name inside the folder.
	FileName = "profiles.json"
)

// Errors the UI reacts to. Store methods wrap them with the profile name.
var (
	// ErrNotFound means no profile has the given name.
	ErrNotFound = errors.New("profile not found")
	// ErrExists means another profile already has the name.
	ErrExists = errors.New("a profile with this name already exists")
	// ErrBuiltin means the change would remove, rename or alter a built-in
	// profile other than its notes.
	ErrBuiltin = errors.New("built-in profiles are read-only except for their notes")
	// ErrConflict means another window or process changed the profile since
	// this Store last read it. The Store now holds the latest version: show
	// it, and save again to overwrite it.
	ErrConflict = errors.New("it was changed by another window or process since it was loaded; the latest version has been loaded")
	// ErrCorrupt is matched (errors.Is) by a *CorruptError.
	ErrCorrupt = errors.New("the profile file is damaged")
	// ErrNewerVersion means the profile file (or an import) was written by a
	// newer version of the app; nothing was changed.
	ErrNewerVersion = errNewerVersion
	// ErrNotWritable means the config folder cannot be written (it is
	// read-only, or not the user's): the profiles can still be read and
	// used, but no change can be saved. Nothing already saved is lost.
	ErrNotWritable = errors.New("the config folder is not writable")
	// ErrDiskFull means a change could not be saved because the disk is
	// full; the profile file was left as it was.
	ErrDiskFull = errors.New("the disk is full")
)

// CorruptError reports a profile file that cannot be parsed. The file is left
// untouched; a copy is kept at Backup. [OpenFresh] replaces the file once the
// user agrees.
type CorruptError struct {
	// Path is the damaged profile file.
	Path string
	// Backup is the copy of the damaged file, or "" if no copy could be made
	// (see BackupErr).
	Backup string
	// BackupErr says why no backup copy could be made.
	BackupErr error
	// Err is the parse error.
	Err error
}

// Error names the file, the backup and the problem.
func (e *CorruptError) Error() string {
	msg := fmt.Sprintf("the profile file %s is damaged and was left unchanged", e.Path)
	if e.Backup != "" {
		msg += fmt.Sprintf(" (a copy is kept at %s)", e.Backup)
	} else if e.BackupErr != nil {
		msg += fmt.Sprintf(" (no backup copy could be made: %v)", e.BackupErr)
	}
	return msg + ": " + e.Err.Error()
}

// Unwrap returns the parse error.
func (e *CorruptError) Unwrap() error { return e.Err }

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Store is the profile file of one config folder. It keeps a snapshot of the
// file, which List, Get, Default and Export read; Reload refreshes it. Every
// method that changes profiles takes the file lock, re-reads the file,
// applies the change to what is on disk now, writes the file atomically
// (temporary file, fsync, rename, directory fsync) with mode 0600 and
// refreshes the snapshot, so concurrent writers (goroutines, or a GUI and a
// CLI) never lose each other's changes. A Store is safe for concurrent use.
//
// If a Secrets is attached (SetSecrets), removing a profile removes its
// secrets, renaming moves them and duplicating copies the client secret and
// remembered password. An error from such a method that wraps
// ErrKeyringUnavailable means the profile change itself was saved and only
// the keyring step failed.
type Store struct {
	dir, path, lockPath string

	wmu sync.Mutex // serialises this Store's file operations

	mu      sync.RWMutex // guards data and secrets
	data    fileData
	secrets *Secrets

	// readOnly, when set, says why changes cannot be saved (the folder
	// could be read but not written when the file was last loaded).
	readOnly error

	// beforeRename, when set, runs after the temporary file is written and
	// synced and before it is renamed over the profile file. Tests use it to
	// simulate a crash in that window.
	beforeRename func(tmp string) error
}

// DefaultDir returns the folder of the profile file: $CCEXPLORER_CONFIG_DIR
// if set, otherwise the app's folder in os.UserConfigDir().
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvConfigDir); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return "", fmt.Errorf("config folder %s=%q: %w", EnvConfigDir, d, err)
		}
		return abs, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user config folder (set %s to choose one): %w", EnvConfigDir, err)
	}
	return filepath.Join(base, AppFolder), nil
}

// Open opens the profile file in dir ("" means DefaultDir()), creating the
// folder if needed. A missing file gives a Store holding only the built-in
// profiles; the file is written on the first change. A file that cannot be
// parsed gives a *CorruptError (errors.Is(err, ErrCorrupt)) and a backup copy
// (profiles.json.corrupt-YYYYMMDD-HHMMSS) and is never overwritten; call
// OpenFresh when the user agrees to start afresh. A file from a newer app
// gives an error wrapping ErrNewerVersion and is left alone.
func Open(dir string) (*Store, error) {
	s, err := newStore(dir)
	if err != nil {
		return nil, err
	}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// OpenFresh is Open for a profile file the user has agreed to replace: if
// the file in dir cannot be used (damaged, or from a newer app), it keeps a
// backup copy and replaces the file with one holding only the built-in
// profiles. If no backup can be made, nothing is replaced. A file that is in
// fact usable is opened unchanged.
func OpenFresh(dir string) (*Store, error) {
	s, err := newStore(dir)
	if err != nil {
		return nil, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	unlock, err := lockFile(s.lockPath)
	if err != nil {
		return nil, err
	}
	defer unlock()

	b, err := os.ReadFile(s.path)
	var d fileData
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d = freshData()
	case err != nil:
		return nil, fmt.Errorf("read profile file %s (nothing was replaced): %w", s.path, err)
	default:
		var derr error
		d, derr = decodeFile(b)
		if derr == nil {
			break
		}
		kind := "corrupt"
		if errors.Is(derr, errNewerVersion) {
			kind = "newer"
		}
		if _, err := s.backup(b, kind); err != nil {
			return nil, fmt.Errorf("keep a copy of %s (nothing was replaced): %w", s.path, err)
		}
		d = freshData()
		if err := s.write(d); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	s.data = d
	s.mu.Unlock()
	return s, nil
}

// newStore resolves dir and creates it.
func newStore(dir string) (*Store, error) {
	if dir == "" {
		var err error
		if dir, err = DefaultDir(); err != nil {
			return nil, err
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("config folder %q: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		if notWritable(err) {
			return nil, fmt.Errorf("create config folder %s: %w: %w", dir, ErrNotWritable, err)
		}
		return nil, fmt.Errorf("create config folder %s: %w", dir, err)
	}
	return &Store{
		dir:      dir,
		path:     filepath.Join(dir, FileName),
		lockPath: filepath.Join(dir, FileName+".lock"),
		data:     freshData(),
	}, nil
}

// Path returns the profile file's path.
func (s *Store) Path() string { return s.path }

// Dir returns the folder holding the profile file.
func (s *Store) Dir() string { return s.dir }

// SetSecrets attaches the keyring whose entries follow the profiles: see
// Store. nil detaches it.
func (s *Store) SetSecrets(sec *Secrets) {
	s.mu.Lock()
	s.secrets = sec
	s.mu.Unlock()
}

// Reload re-reads the profile file into the snapshot, to pick up changes
// made by another window or process. On error the snapshot is unchanged.
// A folder that can be read but not written is read all the same (see
// ReadOnly).
func (s *Store) Reload() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var readOnly error
	unlock, err := lockFile(s.lockPath)
	switch {
	case err != nil && notWritable(err):
		// No lock can be taken where nothing can be written; and as every
		// write is an atomic rename, an unlocked read still sees a whole
		// file. Changes will fail with ErrNotWritable.
		readOnly = s.saveError(err)
		unlock = func() {}
	case err != nil:
		return err
	}
	defer unlock()
	d, err := s.read()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.data = d
	s.readOnly = readOnly
	s.mu.Unlock()
	return nil
}

// ReadOnly returns, when the profile file was last loaded from a folder
// that could be read but not written, why changes cannot be saved (an error
// wrapping ErrNotWritable); otherwise nil. The profiles can still be used.
func (s *Store) ReadOnly() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.readOnly
}

// List returns all profiles, built-in ones first, from the snapshot.
func (s *Store) List() []Profile {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.data.clone().Profiles
}

// Get returns the named profile from the snapshot, or an error wrapping
// ErrNotFound.
func (s *Store) Get(name string) (Profile, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := s.data.index(name)
	if i < 0 {
		return Profile{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return s.data.Profiles[i].clone(), nil
}

// Default returns the name of the default profile (the one selected at
// start). It is always the name of an existing profile.
func (s *Store) Default() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.data.Default
}

// SetDefault makes the named profile the default.
func (s *Store) SetDefault(name string) error {
	return s.mutate(func(_, cur *fileData) error {
		if cur.index(name) < 0 {
			return fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		cur.Default = name
		return nil
	})
}

// Add saves a new profile. It returns a *ValidationError for an invalid
// profile and an error wrapping ErrExists if the name is taken. Spaces around
// fields are trimmed and defaults filled in before saving.
func (s *Store) Add(p Profile) error {
	p = p.normalized()
	if p.Builtin {
		return fmt.Errorf("cannot add %q: %w", p.Name, ErrBuiltin)
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return s.mutate(func(_, cur *fileData) error {
		if cur.index(p.Name) >= 0 {
			return fmt.Errorf("cannot add %q: %w", p.Name, ErrExists)
		}
		cur.Profiles = append(cur.Profiles, p)
		return nil
	})
}

// Update replaces the profile named oldName with p, which may carry a new
// name (a rename; the default and the keyring entries follow it). Built-in
// profiles accept only a change of Notes. If another window or process
// changed the profile since this Store's snapshot was taken, Update returns
// an error wrapping ErrConflict and refreshes the snapshot; calling Update
// again overwrites the other change. The snapshot is refreshed by Reload and
// by every change, so an edit form should save with Replace, which checks
// against the version the form was filled from.
func (s *Store) Update(oldName string, p Profile) error {
	return s.update(oldName, nil, p)
}

// Replace saves edited in place of original, the version of the profile an
// edit form was filled from (as returned by Get or List); edited may carry a
// new name, as with Update. If the file's version of original.Name differs
// from original, because another window or process changed it meanwhile,
// Replace returns an error wrapping ErrConflict and refreshes the snapshot:
// show the latest version (Get), and call Update if the user chooses to
// overwrite it.
func (s *Store) Replace(original, edited Profile) error {
	return s.update(original.Name, &original, edited)
}

// update implements Update (base nil: check against the snapshot) and
// Replace (check against base).
func (s *Store) update(oldName string, base *Profile, p Profile) error {
	p = p.normalized()
	if err := p.Validate(); err != nil {
		return err
	}
	err := s.mutate(func(prev, cur *fileData) error {
		i := cur.index(oldName)
		if i < 0 {
			return fmt.Errorf("%w: %q", ErrNotFound, oldName)
		}
		onDisk := cur.Profiles[i]
		if base != nil {
			if !base.equal(onDisk) {
				return fmt.Errorf("cannot save %q: %w", oldName, ErrConflict)
			}
		} else if j := prev.index(oldName); j >= 0 && !prev.Profiles[j].equal(onDisk) {
			return fmt.Errorf("cannot save %q: %w", oldName, ErrConflict)
		}
		if onDisk.Builtin {
			if p.Name != oldName {
				return fmt.Errorf("cannot rename %q: %w", oldName, ErrBuiltin)
			}
			want := onDisk.clone()
			want.Notes = p.Notes
			if !want.equal(p) {
				return fmt.Errorf("cannot change %q (duplicate it to get an editable copy): %w", oldName, ErrBuiltin)
			}
			cur.Profiles[i].Notes = p.Notes
			return nil
		}
		if p.Builtin {
			return fmt.Errorf("cannot turn %q into a built-in profile: %w", oldName, ErrBuiltin)
		}
		if p.Name != oldName && cur.index(p.Name) >= 0 {
			return fmt.Errorf("cannot rename %q to %q: %w", oldName, p.Name, ErrExists)
		}
		cur.Profiles[i] = p
		if cur.Default == oldName {
			cur.Default = p.Name
		}
		return nil
	})
	if err != nil || p.Name == oldName {
		return err
	}
	if sec := s.attachedSecrets(); sec != nil {
		if err := sec.Move(oldName, p.Name); err != nil {
			return fmt.Errorf("profile %q was renamed to %q, but its secrets could not be moved in the keyring: %w", oldName, p.Name, err)
		}
	}
	return nil
}

// Remove deletes the named profile and, if a Secrets is attached, its
// secrets. Built-in profiles cannot be removed (ErrBuiltin). If the removed
// profile was the default, DefaultProfileName becomes the default.
func (s *Store) Remove(name string) error {
	err := s.mutate(func(_, cur *fileData) error {
		i := cur.index(name)
		if i < 0 {
			return fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		if cur.Profiles[i].Builtin {
			return fmt.Errorf("cannot remove %q: %w", name, ErrBuiltin)
		}
		cur.Profiles = append(cur.Profiles[:i], cur.Profiles[i+1:]...)
		if cur.Default == name {
			cur.Default = DefaultProfileName
		}
		return nil
	})
	if err != nil {
		return err
	}
	if sec := s.attachedSecrets(); sec != nil {
		if err := sec.DeleteAll(name); err != nil {
			return fmt.Errorf("profile %q was removed, but its secrets could not be removed from the keyring: %w", name, err)
		}
	}
	return nil
}

// Duplicate saves a copy of the named profile under newName ("" picks
// "<name> copy", numbered if taken) and returns the copy. A copy of a
// built-in profile is an ordinary, editable profile that still targets the
// sandbox. If a Secrets is attached, the client secret and remembered
// password are copied too; tokens are not (the copy logs in afresh).
func (s *Store) Duplicate(name, newName string) (Profile, error) {
	newName = strings.TrimSpace(newName)
	if newName != "" {
		if err := validateName(newName); err != nil {
			return Profile{}, err
		}
	}
	var dup Profile
	err := s.mutate(func(_, cur *fileData) error {
		i := cur.index(name)
		if i < 0 {
			return fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		dup = cur.Profiles[i].clone()
		dup.Builtin = false
		if newName == "" {
			dup.Name = uniqueName(truncateName(name, MaxNameLength-10)+" copy", cur.names())
		} else if cur.index(newName) >= 0 {
			return fmt.Errorf("cannot duplicate %q as %q: %w", name, newName, ErrExists)
		} else {
			dup.Name = newName
		}
		cur.Profiles = append(cur.Profiles, dup)
		return nil
	})
	if err != nil {
		return Profile{}, err
	}
	if sec := s.attachedSecrets(); sec != nil {
		if err := sec.Copy(name, dup.Name, SecretClientSecret, SecretPassword); err != nil {
			return dup.clone(), fmt.Errorf("profile %q was duplicated as %q, but its secrets could not be copied in the keyring: %w", name, dup.Name, err)
		}
	}
	return dup.clone(), nil
}

// validateName checks a profile name alone.
func validateName(name string) error {
	err := Profile{Name: name}.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	if msg := ve.Field(FieldName); msg != "" {
		return &ValidationError{Profile: name, Problems: []FieldError{{Field: FieldName, Message: msg}}}
	}
	return nil
}

// truncateName cuts name to at most n characters.
func truncateName(name string, n int) string {
	r := []rune(name)
	if len(r) <= n {
		return name
	}
	return strings.TrimSpace(string(r[:n]))
}

// attachedSecrets returns the attached Secrets, or nil.
func (s *Store) attachedSecrets() *Secrets {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.secrets
}

// mutate runs one locked read-modify-write cycle. fn gets the snapshot this
// Store had before (prev) and the file's current content (cur), and changes
// cur. The snapshot is refreshed from disk even when fn fails, so a
// conflict or a clash shows the latest state.
func (s *Store) mutate(fn func(prev, cur *fileData) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	unlock, err := lockFile(s.lockPath)
	if err != nil {
		if notWritable(err) {
			return s.saveError(err)
		}
		return err
	}
	defer unlock()

	cur, err := s.read()
	if err != nil {
		return err
	}
	s.mu.Lock()
	prev := s.data
	s.data = cur.clone()
	s.readOnly = nil
	s.mu.Unlock()

	if err := fn(&prev, &cur); err != nil {
		return err
	}
	if err := s.write(cur); err != nil {
		return err
	}
	s.mu.Lock()
	s.data = cur
	s.mu.Unlock()
	return nil
}

// read reads and parses the profile file; the caller holds the file lock.
// A missing file reads as fresh data.
func (s *Store) read() (fileData, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return freshData(), nil
	}
	if err != nil {
		return fileData{}, fmt.Errorf("read profile file %s: %w", s.path, err)
	}
	d, err := decodeFile(b)
	if err == nil {
		return d, nil
	}
	if errors.Is(err, errNewerVersion) {
		return fileData{}, fmt.Errorf("the profile file %s was left unchanged: %w", s.path, err)
	}
	ce := &CorruptError{Path: s.path, Err: err}
	ce.Backup, ce.BackupErr = s.backup(b, "corrupt")
	return fileData{}, ce
}

// backup keeps a copy of the profile file's content b as
// profiles.json.<kind>-YYYYMMDD-HHMMSS (numbered if that exists) and returns
// its path. An existing backup with the same content is reused, so opening
// the same damaged file again does not pile up copies.
func (s *Store) backup(b []byte, kind string) (string, error) {
	prefix := FileName + "." + kind + "-"
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) || !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(s.dir, e.Name())
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, b) {
			return p, nil
		}
	}
	stamp := prefix + time.Now().Format("20060102-150405")
	for n := 1; ; n++ {
		name := stamp
		if n > 1 {
			name = fmt.Sprintf("%s-%d", stamp, n)
		}
		p := filepath.Join(s.dir, name)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if err := writeSyncClose(f, b); err != nil {
			os.Remove(p)
			return "", err
		}
		return p, nil
	}
}

// write saves d atomically: a temporary file in the same folder is written,
// synced and renamed over the profile file, then the folder is synced. The
// caller holds the file lock. A crash at any point leaves either the old or
// the new file, never a mix; a stray temporary file is removed by the next
// write.
func (s *Store) write(d fileData) error {
	b, err := encodeFile(d)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return s.saveError(err)
	}
	s.removeTemps()
	f, err := os.CreateTemp(s.dir, FileName+".tmp-*")
	if err != nil {
		return s.saveError(err)
	}
	tmp := f.Name()
	err = f.Chmod(0o600)
	if err != nil {
		f.Close()
	} else {
		err = writeSyncClose(f, b)
	}
	if err == nil && s.beforeRename != nil {
		err = s.beforeRename(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err != nil {
		os.Remove(tmp)
		return s.saveError(err)
	}
	// The new file is in place; syncing the folder only makes the rename
	// durable sooner, so its failure is not reported as a failed save.
	_ = syncDir(s.dir)
	return nil
}

// removeTemps removes temporary files left by an interrupted write. The
// caller holds the file lock, so no other write is in progress.
func (s *Store) removeTemps() {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), FileName+".tmp-") {
			os.Remove(filepath.Join(s.dir, e.Name()))
		}
	}
}

// writeSyncClose writes b to f, syncs and closes it.
func writeSyncClose(f *os.File, b []byte) error {
	_, err := f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
