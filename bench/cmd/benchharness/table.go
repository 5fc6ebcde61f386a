//go:build linux && cgo

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const budgetTable = 1.2 // a frame at 100,000 rows at most 1.2× one at 1,000

// benchLine is a go test benchmark result line; benchMetric one of the
// metrics that follow its ns/op.
var (
	benchLine   = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)
	benchMetric = regexp.MustCompile(`([\d.]+) (\S+)`)
)

// runTable measures figure 4 with the ui package's benchmarks (the real
// results table, under the Fyne test driver): BenchmarkResultsFrameScale
// (the budget: it renders frames of both tables in turn and reports their
// ratio) and, for the notes, BenchmarkResultsShow.
func runTable(c *config) []row {
	const name = "4 table frame, 100,000 vs 1,000 rows"
	var out bytes.Buffer
	for _, b := range []struct{ bench, benchtime, count, profile string }{
		{"^BenchmarkResultsFrameScale$", c.benchtime, strconv.Itoa(c.count), c.profilePath("table")},
		{"^BenchmarkResultsShow$", "3x", "3", ""},
	} {
		var cmd *exec.Cmd
		if c.uiTest != "" {
			args := []string{"-test.run", "^$", "-test.bench", b.bench, "-test.benchtime", b.benchtime, "-test.count", b.count}
			if b.profile != "" {
				args = append(args, "-test.cpuprofile", b.profile)
			}
			cmd = exec.Command(c.uiTest, args...)
			if _, err := os.Stat("ui"); err == nil {
				cmd.Dir = "ui" // where go test would run it
			}
		} else {
			args := []string{"test", "-run", "^$", "-bench", b.bench, "-benchtime", b.benchtime, "-count", b.count}
			if b.profile != "" {
				args = append(args, "-cpuprofile", b.profile)
			}
			cmd = exec.Command("go", append(args, "./ui")...)
		}
		cmd.Env = append(os.Environ(), "LANG=en_GB.UTF-8")
		var o bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &o
		if err := cmd.Run(); err != nil {
			return errorRow(name, fmt.Errorf("%v: %w\n%s", cmd.Args, err, o.String()))
		}
		out.Write(o.Bytes())
	}
	res := map[string][]time.Duration{}
	metrics := map[string][]float64{} // "Benchmark… unit" -> values
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		ns, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		res[m[1]] = append(res[m[1]], time.Duration(ns))
		for _, mm := range benchMetric.FindAllStringSubmatch(m[3], -1) {
			if v, err := strconv.ParseFloat(mm[1], 64); err == nil {
				metrics[m[1]+" "+mm[2]] = append(metrics[m[1]+" "+mm[2]], v)
			}
		}
	}
	ratios := metrics["BenchmarkResultsFrameScale ratio"]
	small, big := metrics["BenchmarkResultsFrameScale ms/frame-1k"], metrics["BenchmarkResultsFrameScale ms/frame-100k"]
	if len(ratios) == 0 || len(small) == 0 || len(big) == 0 {
		return errorRow(name, fmt.Errorf("no BenchmarkResultsFrameScale results in:\n%s", out.String()))
	}
	msf := func(f float64) string { return fmt.Sprintf("%.1f ms", f) }
	twoDigits := func(f float64) string { return fmt.Sprintf("%.2f", f) }
	x := median(append([]float64(nil), ratios...))
	r := row{
		Figure: name, Measured: msf(median(append([]float64(nil), big...))), Baseline: "1,000 rows " + msf(median(append([]float64(nil), small...))),
		Ratio: ratio(x), Budget: fmt.Sprintf("≤ %.1f×", budgetTable), Result: verdict(x <= budgetTable),
		Notes: []string{fmt.Sprintf("one frame = table refresh + software paint of a 1000×700 window holding the table scrolled to its middle row (Fyne test driver); frames of the two tables in turn; median of %d runs (ratio %s; %s and %s)",
			len(ratios), spread(ratios, twoDigits), spread(big, msf), spread(small, msf))},
	}
	ss, sb := res["BenchmarkResultsShow/rows=1000"], res["BenchmarkResultsShow/rows=100000"]
	if len(ss) > 0 && len(sb) > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("showing a new result (column widths, warning count, refresh, first frame; Patient and Observation in turn): %s at 100,000 rows, %s at 1,000",
			ms1(median(sb)), ms1(median(ss))))
	}
	return []row{r}
}
