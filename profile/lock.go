package profile

import "sync"

// pathLocks holds one mutex per lock file path, so Stores in one process
// exclude each other even where the OS lock is per process.
var pathLocks sync.Map // map[string]*sync.Mutex

// lockFile takes the in-process mutex and the OS lock for the lock file at
// path (an absolute, clean path) and returns the function that releases both.
func lockFile(path string) (func(), error) {
	m, _ := pathLocks.LoadOrStore(path, new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	release, err := lockFileOS(path)
	if err != nil {
		mu.Unlock()
		return nil, err
	}
	return func() {
		release()
		mu.Unlock()
	}, nil
}
