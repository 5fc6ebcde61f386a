package ui

import (
	"sync"

	"fyne.io/fyne/v2"
)

// uiMu serialises the work goroutines hand to the Fyne goroutine. With a
// real driver that work all runs on the Fyne goroutine anyway and the mutex
// is never contended; under the test driver, where fyne.Do runs the function
// on the caller's goroutine, it stands in for the one Fyne goroutine so that
// tests (which take it too, see onUI in the tests) stay free of races.
var uiMu sync.Mutex

// runOnUI runs fn on the Fyne goroutine. Call it only from goroutines the
// app started, never from a Fyne callback.
func runOnUI(fn func()) {
	fyne.Do(func() {
		uiMu.Lock()
		defer uiMu.Unlock()
		fn()
	})
}
