package profile

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"syscall"
)

// notWritable reports whether err says a file could not be created or
// changed for lack of permission or because the file system is read-only.
func notWritable(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)
}

// diskFull reports whether err says the disk (or the user's quota) is full.
func diskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var errno syscall.Errno
	// ERROR_HANDLE_DISK_FULL and ERROR_DISK_FULL.
	return runtime.GOOS == "windows" && errors.As(err, &errno) && (errno == 39 || errno == 112)
}

// saveError says in plain words why the profile file could not be saved,
// wrapping ErrDiskFull or ErrNotWritable when that is why, and the cause.
// Nothing was changed on disk when it is returned.
func (s *Store) saveError(err error) error {
	switch {
	case diskFull(err):
		return fmt.Errorf("save profile file %s: %w, so nothing was changed (free some space and save again): %w", s.path, ErrDiskFull, err)
	case notWritable(err):
		return fmt.Errorf("save profile file %s: %w (%s), so nothing was changed: %w", s.path, ErrNotWritable, s.dir, err)
	}
	return fmt.Errorf("save profile file %s: %w", s.path, err)
}
