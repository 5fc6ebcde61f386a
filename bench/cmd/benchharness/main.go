//go:build linux && cgo

// Command benchharness measures Care Connect Explorer's performance figures,
// each beside a baseline measured in the same run, prints them as a table
// and exits 1 when a figure exceeds its budget. scripts/bench.sh (make
// bench) builds what it needs and runs it under Xvfb.
//
// The figures:
//
//  1. start-up: process start to the main window mapped, on the built-in
//     sandbox, beside a bare Fyne hello-world (bench/hello); budget 1.5×.
//  2. idle memory: RSS once the first patient list is shown; budget 200 MB.
//  3. rows: a 10,000-entry searchset turned into table rows, beside
//     encoding/json decoding the same bytes into map[string]any; budget 2×.
//  4. table scale: one frame of the results table at 100,000 rows beside
//     1,000 rows (the ui package's BenchmarkResultsFrame); budget 1.2×.
//  5. fetch all: 10,000 Observations in pages of 100 from an in-process
//     sandbox: wall time, peak RSS, client and server shares.
//  6. sandbox: searches per second from 50 concurrent loopback clients.
//
// Figures 3, 5 and 6 run in child processes (the harness runs itself with
// -child), so that each has its own heap and its own peak RSS. With
// -profile DIR every figure writes a CPU profile there.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// row is one line of the results table.
type row struct {
	Figure   string   `json:"figure"`
	Measured string   `json:"measured"`
	Baseline string   `json:"baseline"`
	Ratio    string   `json:"ratio"`
	Budget   string   `json:"budget"`
	Result   string   `json:"result"` // PASS, FAIL, ERROR or "-" (reported, no budget)
	Notes    []string `json:"notes,omitempty"`
}

// figure is a figure's name (for -only) and how to measure it.
type figure struct {
	name string
	run  func(*config) []row
}

// config is the harness's flags.
type config struct {
	app, hello  string
	helloLinked string
	uiTest      string
	runs        int
	settle      time.Duration
	duration    time.Duration
	benchtime   string
	count       int
	profileDir  string
	jsonOut     string
	only        string
	patients    int
	obsPatients int
	verbose     bool
}

func main() {
	var c config
	child := flag.String("child", "", "internal: run one in-process figure (rows, fetchall, throughput) and print its JSON")
	flag.StringVar(&c.app, "app", "", "the app binary, built like -hello (figures 1, 2)")
	flag.StringVar(&c.hello, "hello", "", "the hello-world binary built from bench/hello (figures 1, 2)")
	flag.StringVar(&c.helloLinked, "hello-linked", "", "optional: bench/hello built with -tags linked, for a note on what linking the app's packages costs (figure 1)")
	flag.StringVar(&c.uiTest, "uitest", "", "the ui package's test binary (go test -c ./ui); empty runs go test ./ui (figure 4)")
	flag.IntVar(&c.runs, "runs", 11, "launches of each binary (figures 1, 2); the median is reported")
	flag.DurationVar(&c.settle, "settle", 2*time.Second, "how long a window idles before its RSS is read (figure 2)")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "how long the 50 clients search (figure 6)")
	flag.StringVar(&c.benchtime, "benchtime", "2s", "go test -benchtime of each run of BenchmarkResultsFrameScale (figure 4)")
	flag.IntVar(&c.count, "count", 5, "rounds of each in-process comparison (figures 3, 4)")
	flag.StringVar(&c.profileDir, "profile", "", "write CPU profiles of every figure to this folder")
	flag.StringVar(&c.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.StringVar(&c.only, "only", "", "comma-separated figures to run: startup, rows, table, fetchall, sandbox (default all)")
	flag.IntVar(&c.patients, "patients", 1000, "sandbox size for figures 5 and 6")
	flag.IntVar(&c.obsPatients, "rows-patients", 10000, "sandbox size that the 10,000-entry searchsets of figure 3 come from")
	flag.BoolVar(&c.verbose, "v", false, "print every launch and child step to stderr")
	flag.Parse()

	if *child != "" {
		os.Exit(runChild(*child, &c))
	}
	if c.profileDir != "" {
		if err := os.MkdirAll(c.profileDir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}

	figures := []figure{
		{"startup", runStartup}, // figures 1 and 2
		{"rows", runRows},
		{"table", runTable},
		{"fetchall", runFetchAll},
		{"sandbox", runThroughput},
	}
	var want []string
	if c.only != "" {
		want = strings.Split(c.only, ",")
	}
	m := machine()
	fmt.Printf("Care Connect Explorer benchmarks, %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Printf("machine: %s\n", m)
	load0 := loadavg()

	var rows []row
	for _, f := range figures {
		if want != nil && !slices.Contains(want, f.name) {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s…\n", f.name)
		t0 := time.Now()
		rs := f.run(&c)
		fmt.Fprintf(os.Stderr, "bench: %s took %v\n", f.name, time.Since(t0).Round(100*time.Millisecond))
		rows = append(rows, rs...)
	}
	fmt.Printf("load average: %s at the start, %s at the end (2 CPUs shared: figures move by a few per cent between runs)\n\n", load0, loadavg())
	failed := printTable(os.Stdout, rows)
	if c.jsonOut != "" {
		data, _ := json.MarshalIndent(struct {
			Machine string `json:"machine"`
			Rows    []row  `json:"rows"`
		}{m, rows}, "", "  ")
		if err := os.WriteFile(c.jsonOut, data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	if failed > 0 {
		fmt.Printf("\n%d figure(s) over budget or not measured.\n", failed)
		os.Exit(1)
	}
	fmt.Println("\nEvery figure within its budget.")
}

// printTable prints the rows and their notes and returns how many failed.
func printTable(w io.Writer, rows []row) int {
	head := row{Figure: "figure", Measured: "measured", Baseline: "baseline (same run)", Ratio: "ratio", Budget: "budget", Result: "result"}
	all := append([]row{head}, rows...)
	width := func(f func(row) string) int {
		n := 0
		for _, r := range all {
			n = max(n, len([]rune(f(r))))
		}
		return n
	}
	cols := []func(row) string{
		func(r row) string { return r.Figure },
		func(r row) string { return r.Measured },
		func(r row) string { return r.Baseline },
		func(r row) string { return r.Ratio },
		func(r row) string { return r.Budget },
		func(r row) string { return r.Result },
	}
	widths := make([]int, len(cols))
	for i, f := range cols {
		widths[i] = width(f)
	}
	line := func(r row) {
		var b strings.Builder
		b.WriteString("| ")
		for i, f := range cols {
			s := f(r)
			b.WriteString(s + strings.Repeat(" ", widths[i]-len([]rune(s))) + " | ")
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(head)
	var sep strings.Builder
	sep.WriteString("|")
	for _, n := range widths {
		sep.WriteString(strings.Repeat("-", n+2) + "|")
	}
	fmt.Fprintln(w, sep.String())
	failed := 0
	for _, r := range rows {
		line(r)
		if r.Result == "FAIL" || r.Result == "ERROR" {
			failed++
		}
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		for _, n := range r.Notes {
			fmt.Fprintf(w, "- %s: %s\n", r.Figure, n)
		}
	}
	return failed
}

// verdict says PASS when ok.
func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// errorRow reports a figure that could not be measured.
func errorRow(name string, err error) []row {
	return []row{{Figure: name, Measured: "-", Baseline: "-", Ratio: "-", Budget: "-", Result: "ERROR", Notes: []string{err.Error()}}}
}

// runChildProcess runs this binary with -child name and decodes the JSON
// it prints into out.
func runChildProcess(c *config, name string, out any) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"-child", name, "-patients", fmt.Sprint(c.patients), "-rows-patients", fmt.Sprint(c.obsPatients),
		"-duration", c.duration.String(), "-count", fmt.Sprint(c.count)}
	if c.profileDir != "" {
		args = append(args, "-profile", c.profileDir)
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	data, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("child %s: %w", name, err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("child %s printed %q: %w", name, data, err)
	}
	return nil
}

// runChild runs a child figure and prints its result as JSON.
func runChild(name string, c *config) int {
	var (
		res any
		err error
	)
	switch name {
	case "rows":
		res, err = childRows(c)
	case "fetchall":
		res, err = childFetchAll(c)
	case "throughput":
		res, err = childThroughput(c)
	default:
		err = fmt.Errorf("unknown child %q", name)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

// profilePath is where a figure's CPU profile goes, or "" when not
// profiling.
func (c *config) profilePath(name string) string {
	if c.profileDir == "" {
		return ""
	}
	return filepath.Join(c.profileDir, name+".cpu.prof")
}

// machine describes this machine in one line.
func machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
		}
	}
	kernel := ""
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(data))
	}
	return fmt.Sprintf("%s, %d CPUs%s%s, %s %s/%s", model, runtime.NumCPU(), mem, kernel, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// loadavg returns the 1-minute load average.
func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// median returns the median of xs (which it sorts).
func median[T int64 | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// spread formats the range of xs with f.
func spread[T int64 | float64 | time.Duration](xs []T, f func(T) string) string {
	if len(xs) == 0 {
		return ""
	}
	return f(slices.Min(xs)) + "–" + f(slices.Max(xs))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

func ms1(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func mb(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

func ratio(x float64) string { return fmt.Sprintf("%.2f×", x) }

// thousands formats n with thousands separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
