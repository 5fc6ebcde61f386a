//go:build windows

package profile

import (
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// lockFileOS takes an exclusive lock (LockFileEx) on the lock file at path,
// creating it if needed, and returns the function that releases it.
func lockFileOS(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	h := windows.Handle(f.Fd())
	ol := new(windows.Overlapped)
	if err := windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, ol); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = windows.UnlockFileEx(h, 0, 1, 0, ol)
		f.Close()
	}, nil
}

// syncDir does nothing: Windows cannot flush a directory, and MoveFileEx
// (os.Rename) is durable once it returns.
func syncDir(string) error { return nil }
