// Command startprof is Care Connect Explorer's window (the same calls as
// the app's main.go, on the built-in sandbox) instrumented for profiling
// start-up and idle memory, which the app binary itself cannot report:
//
//   - a CPU profile from main until the first patient list is shown
//     (-cpuprofile),
//   - the time of each milestone since main started,
//   - after -settle, a heap profile (-memprofile), the Go runtime's memory
//     statistics, and where the process's resident memory lives
//     (/proc/self/smaps: Go heap, C heap, GL driver, binary), then it exits.
//
// Run it under Xvfb like the app (scripts/bench.sh does, with PROFILE=1).
// With STARTPROF_EXEC_NS set to the launcher's time.Now().UnixNano() (or
// `date +%s%N`) just before exec, it also says when main started.
// Package initialisation happens before main and is not in the CPU
// profile; GODEBUG=inittrace=1 reports it. For a baseline, the harness
// launches bench/hello (bare, and with -tags linked).
//
// It starts the window through ui (NewApp, New), not Fyne directly, so that
// it runs the app's own start-up code.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/careconnectexplorer/ccexplorer/bench/internal/procstat"
	"github.com/careconnectexplorer/ccexplorer/startup"
	"github.com/careconnectexplorer/ccexplorer/ui"
)

func main() {
	cpu := flag.String("cpuprofile", "", "write a CPU profile of main until the first patient list to this file")
	mem := flag.String("memprofile", "", "write a heap profile after -settle to this file")
	settle := flag.Duration("settle", 2*time.Second, "idle time after the first patient list before memory is read")
	flag.Parse()
	t0 := time.Now()
	// As the app's main.go does (package startup), except that the font
	// index is read from here, not from init: startprof has arguments.
	startup.Finished()
	startup.ReadFontIndex()
	if ns, err := strconv.ParseInt(os.Getenv("STARTPROF_EXEC_NS"), 10, 64); err == nil {
		// The launcher's clock reading just before exec: the time before
		// main is the loader and package initialisation.
		fmt.Fprintf(os.Stderr, "startprof: main started %.1f ms after exec\n", float64(t0.UnixNano()-ns)/1e6)
	}
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}
	mark := func(what string) {
		fmt.Fprintf(os.Stderr, "startprof: %7.1f ms  %s\n", float64(time.Since(t0))/float64(time.Millisecond), what)
	}
	var once sync.Once
	listed := func() {
		once.Do(func() {
			if *cpu != "" {
				pprof.StopCPUProfile()
			}
			mark("CPU profile stopped")
			go func() {
				time.Sleep(*settle)
				report(*mem)
				os.Exit(0)
			}()
		})
	}

	a := ui.NewApp()
	mark("app created")
	a.Lifecycle().SetOnStarted(func() { mark("Fyne started (window shown)") })
	e := ui.New(a, ui.Options{Logf: func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		mark(line)
		if strings.HasPrefix(line, "search Patient: ") {
			listed()
		}
	}})
	mark("ui.New returned")
	e.Window().ShowAndRun()
}

// report prints where the memory is and writes the heap profile.
func report(memprofile string) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m, _ := procstat.Read(0)
	fmt.Fprintf(os.Stderr, "startprof: VmRSS %.0f MiB, VmHWM %.0f MiB\n", procstat.MB(m.RSS), procstat.MB(m.HWM))
	fmt.Fprintf(os.Stderr, "startprof: Go: HeapInuse %.1f MiB, HeapIdle %.1f MiB (released %.1f), StackSys %.1f MiB, other runtime %.1f MiB, Sys %.1f MiB, goroutines %d\n",
		mib(ms.HeapInuse), mib(ms.HeapIdle), mib(ms.HeapReleased), mib(ms.StackSys), mib(ms.MSpanSys+ms.MCacheSys+ms.BuckHashSys+ms.GCSys+ms.OtherSys), mib(ms.Sys), runtime.NumGoroutine())
	smaps()
	if memprofile != "" {
		f, err := os.Create(memprofile)
		if err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// smaps sums the resident memory of each mapping by what it maps.
func smaps() {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	defer f.Close()
	by := map[string]int64{}
	var name string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		fields := strings.Fields(l)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			name = "[anonymous]"
			if len(fields) >= 6 {
				name = fields[5]
			}
			continue
		}
		if len(fields) == 3 && fields[0] == "Rss:" {
			var kb int64
			fmt.Sscan(fields[1], &kb)
			by[name] += kb << 10
		}
	}
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range by {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	fmt.Fprintln(os.Stderr, "startprof: resident memory by mapping (largest first):")
	for i, e := range all {
		if i == 12 || e.v < 1<<20 {
			break
		}
		fmt.Fprintf(os.Stderr, "startprof:   %7.1f MiB  %s\n", procstat.MB(e.v), e.k)
	}
}
