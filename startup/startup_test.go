package startup

import (
	"math"
	"runtime/debug"
	"testing"
	"time"
)

// TestInitSwitchesTheCollectorOffAndFinishedRestoresIt checks what init did
// in this test binary (it ran before the test) and that Finished puts back
// the settings init found: GOGC 100 and no memory limit unless the
// environment says otherwise.
func TestInitSwitchesTheCollectorOffAndFinishedRestoresIt(t *testing.T) {
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("after init the collector's percent is %d, want -1 (off)", got)
	}
	if got := debug.SetMemoryLimit(-1); got != startupMemoryLimit && got != memoryLimit {
		t.Fatalf("after init the memory limit is %d, want the start-up backstop %d", got, startupMemoryLimit)
	}
	Finished()
	if got := debug.SetGCPercent(-1); got != gcPercent {
		t.Errorf("after Finished the collector's percent is %d, want %d (what init found)", got, gcPercent)
	}
	debug.SetGCPercent(gcPercent)
	if gcPercent != 100 {
		t.Logf("GOGC was %d in this run's environment", gcPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != memoryLimit {
		t.Errorf("after Finished the memory limit is %d, want %d (what init found)", got, memoryLimit)
	}
	if memoryLimit == math.MaxInt64 && gcPercent == 100 {
		// The usual environment: check the values themselves too.
		if got := debug.SetGCPercent(-1); got != 100 {
			t.Errorf("GOGC after Finished = %d, want 100", got)
		}
		debug.SetGCPercent(100)
	}

	// A second call changes nothing, even after someone else's setting.
	debug.SetGCPercent(50)
	Finished()
	if got := debug.SetGCPercent(gcPercent); got != 50 {
		t.Errorf("a second Finished changed the collector's percent to %d", got)
	}
}

// TestReadFontIndex reads the real font index (a test binary has arguments,
// so init did not start it) and finishes, whether or not the machine has
// fonts; calling it twice starts one reader.
func TestReadFontIndex(t *testing.T) {
	if FontsRead != nil {
		t.Fatal("init started the font reader in a process with arguments")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	ReadFontIndex()
	first := FontsRead
	ReadFontIndex()
	if FontsRead != first {
		t.Error("a second ReadFontIndex started another reader")
	}
	select {
	case <-first:
	case <-time.After(time.Minute):
		t.Fatal("the font index was never read (a hang guard, not a timing check)")
	}
}
