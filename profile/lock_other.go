//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package profile

import "os"

// lockFileOS only creates the lock file: this platform has no advisory lock
// this package uses, so only Stores within one process exclude each other
// (through lockFile's in-process mutex).
func lockFileOS(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return func() { f.Close() }, nil
}

// syncDir flushes a directory entry change to disk where the platform can.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}
