// Package startup shortens the time from exec to main (and so to the
// window): it runs during package initialisation, before the big packages,
// and main undoes what it did as its first step (Finished).
//
// Two things happen in its init:
//
//   - The garbage collector is switched off, with a memory limit as a
//     backstop. Package initialisation allocates about 20 MB that stays live
//     (github.com/google/fhir's jsonformat walks every STU3 and R4 message
//     type and unpacks their descriptors), and with the collector on, the
//     heap's 4 MB starting goal sends it through several collections of a
//     heap that is almost all live, for nothing: about 9 ms of the 58 ms
//     from exec to the end of `ccexplorer --version` on the development VM
//     (perf stat -r 30). Finished switches it back on with the settings it
//     found (GOGC and GOMEMLIMIT are honoured). Keeping it off past main
//     was measured too, and is slower: the window's construction makes
//     garbage, and a heap that only grows pays a page fault for every new
//     page instead of reusing freed ones.
//   - When the process will open the window (no arguments), a goroutine
//     reads go-text's index of the system fonts, which Fyne otherwise reads
//     when it first measures text (about 10 ms). The index is global to the
//     process and built once; fontscan documents UseSystemFonts as safe for
//     concurrent use, so this is the work Fyne would do, done sooner, on the
//     second core while jsonformat initialises on the first.
//
// Both rely on Go's initialisation order (the spec since Go 1.21: packages
// are initialised in import-path order as soon as their imports are): this
// package imports only the standard library and fontscan, and its path
// (github.com/careconnectexplorer/…) sorts before github.com/google/fhir,
// so its init runs before jsonformat's (main_test.go checks this). The
// command's main.go imports it and calls Finished first thing, as do the
// benchmark commands that stand in for it (bench/hello -tags linked,
// bench/cmd/startprof); no library package should import it.
package startup

import (
	"math"
	"os"
	"runtime/debug"
	"sync"

	"github.com/go-text/typesetting/fontscan"
)

// startupMemoryLimit is the heap size at which the collector runs anyway
// while it is switched off. Initialisation allocates about 20 MB; this only
// matters if something goes badly wrong before Finished is called.
const startupMemoryLimit = 512 << 20

var (
	gcPercent   int   // the collector's setting before init switched it off
	memoryLimit int64 // the memory limit before init lowered it
	restore     sync.Once
	fontsOnce   sync.Once

	// FontsRead is closed when the font index has been read (or could not
	// be); nil when the process will not open a window.
	FontsRead chan struct{}
)

func init() {
	gcPercent = debug.SetGCPercent(-1)
	memoryLimit = debug.SetMemoryLimit(-1)
	if memoryLimit > startupMemoryLimit {
		debug.SetMemoryLimit(startupMemoryLimit)
	}
	if gcPercent < 0 && memoryLimit == math.MaxInt64 {
		// GOGC=off with no limit: the user asked for no collection at all.
		debug.SetMemoryLimit(math.MaxInt64)
	}

	if len(os.Args) == 1 { // no subcommand: the window
		ReadFontIndex()
	}
}

// ReadFontIndex starts reading the system font index on a goroutine, once;
// init calls it when the process will open the window. FontsRead is closed
// when it is done.
func ReadFontIndex() {
	fontsOnce.Do(func() {
		FontsRead = make(chan struct{})
		go func() {
			defer close(FontsRead)
			// The cache directory Fyne passes on the desktop ("": the
			// user's cache directory). An error is Fyne's to report when it
			// loads the index itself.
			_ = fontscan.NewFontMap(quiet{}).UseSystemFonts("")
		}()
	})
}

// Finished ends start-up: the collector runs again as it did before init
// (GOGC, GOMEMLIMIT). Safe to call more than once and from any goroutine.
func Finished() {
	restore.Do(func() {
		debug.SetMemoryLimit(memoryLimit)
		debug.SetGCPercent(gcPercent)
	})
}

// quiet drops fontscan's progress messages, as Fyne's own logger does.
type quiet struct{}

func (quiet) Printf(string, ...any) {}
