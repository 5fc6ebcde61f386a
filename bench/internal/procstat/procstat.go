// Package procstat reads a Linux process's memory figures from /proc.
package procstat

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Mem is a process's resident memory, in bytes.
type Mem struct {
	RSS int64 // VmRSS: resident now
	HWM int64 // VmHWM: the peak resident size (since start or ResetPeak)
}

// MB returns n bytes in mebibytes.
func MB(n int64) float64 { return float64(n) / (1 << 20) }

// Read returns the memory figures of process pid (0 means this process).
func Read(pid int) (Mem, error) {
	path := "/proc/self/status"
	if pid > 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	f, err := os.Open(path)
	if err != nil {
		return Mem{}, err
	}
	defer f.Close()
	var m Mem
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.HWM
		default:
			continue
		}
		fields := strings.Fields(v) // "123456 kB"
		if len(fields) != 2 || fields[1] != "kB" {
			return Mem{}, fmt.Errorf("%s: unexpected %s line %q", path, k, v)
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return Mem{}, fmt.Errorf("%s: %s: %w", path, k, err)
		}
		*dst = n << 10
	}
	if err := sc.Err(); err != nil {
		return Mem{}, err
	}
	if m.RSS == 0 {
		return Mem{}, fmt.Errorf("%s: no VmRSS line", path)
	}
	return m, nil
}

// ResetPeak sets this process's VmHWM back to its current RSS (Linux 4.0
// and later), so that a later Read reports the peak of what follows.
func ResetPeak() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}
