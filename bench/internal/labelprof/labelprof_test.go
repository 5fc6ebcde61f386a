package labelprof

import (
	"bytes"
	"context"
	"runtime/pprof"
	"testing"
	"time"
)

// TestSum profiles two labelled busy loops and checks that each label
// gets CPU time (a smoke test of the parser, not a timing check).
func TestSum(t *testing.T) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skip(err)
	}
	spin := func(side string) {
		pprof.Do(context.Background(), pprof.Labels("side", side), func(context.Context) {
			x := 0
			for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); {
				x++
			}
			_ = x
		})
	}
	spin("a")
	spin("b")
	pprof.StopCPUProfile()
	by, total, err := Sum(buf.Bytes(), "side")
	if err != nil {
		t.Fatal(err)
	}
	if total <= 0 || by["a"] <= 0 || by["b"] <= 0 {
		t.Fatalf("by label %v, total %v", by, total)
	}
}
