package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestStartupInitialisesBeforeTheFHIRLibrary checks the premise of package
// startup: in this program its init runs before jsonformat's, so the
// collector is off while jsonformat initialises. Go initialises packages in
// import-path order as their imports become ready; a new import of startup's,
// or a change of module path, could break that silently. The test re-runs its
// own binary (which links the same packages as the command) with
// GODEBUG=inittrace=1 and reads the order.
func TestStartupInitialisesBeforeTheFHIRLibrary(t *testing.T) {
	if os.Getenv("CCX_INIT_ORDER_CHILD") == "1" {
		return // the child: initialisation was all it had to do
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestStartupInitialisesBeforeTheFHIRLibrary$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "CCX_INIT_ORDER_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child failed: %v\n%s", err, out)
	}
	const (
		startupPkg = "init github.com/careconnectexplorer/ccexplorer/startup "
		fhirPkg    = "init github.com/google/fhir/go/jsonformat/internal/jsonpbhelper "
	)
	s, f := -1, -1
	for i, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, startupPkg):
			s = i
		case strings.HasPrefix(line, fhirPkg):
			f = i
		}
	}
	if s < 0 || f < 0 {
		t.Fatalf("the init trace does not list both packages (startup at line %d, jsonpbhelper at %d):\n%s", s, f, out)
	}
	if s > f {
		t.Errorf("package startup initialises after jsonformat (trace lines %d and %d): its collector switch no longer helps", s, f)
	}
}
