package profile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// manyClashing returns n profiles named "a" (differing in their address),
// as the JSON array of an export or a profile file.
func manyClashing(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"a","base_url":"https://e%d.example/fhir","grant":"none"}`, i)
	}
	return b.String()
}

// An import, or a damaged profile file, with many profiles of the same name
// takes linear time to name them apart; it used to take quadratic time (an
// 8 MiB import hung the app for most of an hour).
func TestManyClashingNamesAreNamedQuickly(t *testing.T) {
	const n = 20000
	profiles := manyClashing(n)

	s := openStore(t)
	start := time.Now()
	added, err := s.Import([]byte(`{"ccexplorer_profiles":1,"profiles":[` + profiles + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("importing %d clashing profiles took %v", n, d)
	}
	if len(added) != n || added[0] != "a" || added[1] != "a (2)" || added[n-1] != fmt.Sprintf("a (%d)", n) {
		t.Errorf("added %d: %q ... %q", len(added), added[:2], added[len(added)-1])
	}
	dir := t.TempDir()
	file := `{"schema_version":1,"profiles":[` + profiles + `]}`
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("loading a file of %d clashing profiles took %v", n, d)
	}
	if got := len(s2.List()); got != n+len(Builtins()) {
		t.Errorf("%d profiles loaded", got)
	}
}
