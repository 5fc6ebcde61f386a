//go:build linux && cgo

package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/careconnectexplorer/ccexplorer/bench/internal/procstat"
	"github.com/careconnectexplorer/ccexplorer/bench/internal/xwatch"
)

// The app's stderr line that says the first patient list is on screen.
var listedLine = regexp.MustCompile(`search Patient: (\d+) rows on the first page`)

// Lines that mean a launch went wrong even if the window appeared.
var badLine = regexp.MustCompile(`Error in Fyne call thread|^panic:|fatal error:`)

const (
	appTitle   = "Care Connect Explorer"
	helloTitle = "Hello"
	budgetMap  = 1.5       // start-up: at most 1.5× the hello-world
	budgetRSS  = 200 << 20 // idle RSS: at most 200 MiB
)

// launch is what one start of a binary measured.
type launch struct {
	mapped  time.Duration // exec to the main window mapped
	listed  time.Duration // exec to the first patient list shown (the app)
	rssList int64         // VmRSS when the list was shown (the app)
	rssIdle int64         // VmRSS after settling
	hwm     int64         // VmHWM after settling
}

// runStartup measures figures 1 and 2: c.runs launches of the app and of
// the hello-world (and of the linked hello-world, for a note), taking turns
// and rotating which goes first, so that all see the same noise, after one
// warm-up launch of each that is not counted.
func runStartup(c *config) []row {
	const f1, f2 = "1 start-up to window mapped", "2 idle RSS, first patients shown"
	if c.app == "" || c.hello == "" {
		err := errors.New("-app and -hello are needed (scripts/bench.sh builds them)")
		return append(errorRow(f1, err), errorRow(f2, err)...)
	}
	w, err := xwatch.Open("")
	if err != nil {
		return append(errorRow(f1, err), errorRow(f2, err)...)
	}
	defer w.Close()
	// One cache folder for every launch (the warm-up launches fill it):
	// the system font index Fyne builds there is warm, as on a user's
	// machine, while each launch's home and config folders are fresh.
	cache, err := os.MkdirTemp("", "ccx-bench-cache-")
	if err != nil {
		return append(errorRow(f1, err), errorRow(f2, err)...)
	}
	defer os.RemoveAll(cache)

	// The binaries of one round: the app, the hello-world and, when given,
	// the hello-world linked with all of the app's packages. Each round
	// starts with the next one, so that every binary is as often first.
	type subject struct {
		bin, title string
		app        bool
		kept       *[]launch
	}
	var apps, hellos, linked []launch
	subjects := []subject{{c.app, appTitle, true, &apps}, {c.hello, helloTitle, false, &hellos}}
	if c.helloLinked != "" {
		subjects = append(subjects, subject{c.helloLinked, helloTitle, false, &linked})
	}
	run := func(s subject, keep bool) error {
		l, err := launchOnce(w, s.bin, s.title, s.app, c.settle, cache)
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(s.bin), err)
		}
		if keep {
			*s.kept = append(*s.kept, l)
		}
		if c.verbose {
			fmt.Fprintf(os.Stderr, "bench: %-11s mapped %s, listed %s, RSS %s (kept: %v)\n",
				filepath.Base(s.bin), ms(l.mapped), ms(l.listed), mb(l.rssIdle), keep)
		}
		return nil
	}
	for _, s := range subjects { // warm-up
		if err := run(s, false); err != nil {
			return append(errorRow(f1, err), errorRow(f2, err)...)
		}
	}
	for i := range c.runs {
		for j := range subjects {
			if err := run(subjects[(i+j)%len(subjects)], true); err != nil {
				return append(errorRow(f1, err), errorRow(f2, err)...)
			}
		}
	}

	pick := func(ls []launch, f func(launch) time.Duration) []time.Duration {
		var out []time.Duration
		for _, l := range ls {
			out = append(out, f(l))
		}
		return out
	}
	pickN := func(ls []launch, f func(launch) int64) []int64 {
		var out []int64
		for _, l := range ls {
			out = append(out, f(l))
		}
		return out
	}
	appMap := pick(apps, func(l launch) time.Duration { return l.mapped })
	helloMap := pick(hellos, func(l launch) time.Duration { return l.mapped })
	listed := pick(apps, func(l launch) time.Duration { return l.listed })
	var pairs []float64 // each app launch over the hello-world launch next to it
	for i := range min(len(apps), len(hellos)) {
		pairs = append(pairs, float64(apps[i].mapped)/float64(hellos[i].mapped))
	}
	am, hm := median(appMap), median(helloMap)
	r := float64(am) / float64(hm)
	startup := row{
		Figure: f1, Measured: ms(am), Baseline: "hello-world " + ms(hm), Ratio: ratio(r),
		Budget: fmt.Sprintf("≤ %.1f×", budgetMap), Result: verdict(r <= budgetMap),
		Notes: []string{
			fmt.Sprintf("median of %d launches each, taking turns, after one warm-up launch each; app %s, hello-world %s; launch-by-launch ratios %s (median %.2f)",
				c.runs, spread(appMap, ms), spread(helloMap, ms), spread(pairs, func(f float64) string { return fmt.Sprintf("%.2f", f) }), median(append([]float64(nil), pairs...))),
			fmt.Sprintf("first patient list shown %s after exec (median; %s)", ms(median(listed)), spread(listed, ms)),
		},
	}
	if len(linked) > 0 {
		linkedMap := pick(linked, func(l launch) time.Duration { return l.mapped })
		lm := median(linkedMap)
		startup.Notes = append(startup.Notes, fmt.Sprintf(
			"the hello-world linked with all of the app's packages (bench/hello -tags linked: their initialisation and the bigger binary, none of the app's code) mapped in %s (median; %s), %.2f× the bare one; the app took %.2f× that",
			ms(lm), spread(linkedMap, ms), float64(lm)/float64(hm), float64(am)/float64(lm)))
	}

	idle := pickN(apps, func(l launch) int64 { return l.rssIdle })
	atList := pickN(apps, func(l launch) int64 { return l.rssList })
	hwm := pickN(apps, func(l launch) int64 { return l.hwm })
	helloIdle := pickN(hellos, func(l launch) int64 { return l.rssIdle })
	ri, hi := median(idle), median(helloIdle)
	memory := row{
		Figure: f2, Measured: mb(ri), Baseline: "hello-world " + mb(hi), Ratio: ratio(float64(ri) / float64(hi)),
		Budget: "≤ " + mb(budgetRSS), Result: verdict(ri <= budgetRSS),
		Notes: []string{
			fmt.Sprintf("VmRSS %v after the list was shown (median; %s); %s the moment it was shown; peak VmHWM %s",
				c.settle, spread(idle, mb), mb(median(atList)), mb(median(hwm))),
		},
	}
	if len(linked) > 0 {
		linkedIdle := median(pickN(linked, func(l launch) int64 { return l.rssIdle }))
		memory.Notes = append(memory.Notes, fmt.Sprintf(
			"the hello-world linked with all of the app's packages: %s idle (median), %s more than the bare one",
			mb(linkedIdle), mb(linkedIdle-hi)))
	}
	return []row{startup, memory}
}

// launchOnce starts bin in a fresh config folder, times its window being
// mapped (and, for the app, the first patient list), reads its RSS and
// stops it.
func launchOnce(w *xwatch.Watcher, bin, title string, app bool, settle time.Duration, cache string) (launch, error) {
	var l launch
	dir, err := os.MkdirTemp("", "ccx-bench-")
	if err != nil {
		return l, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = launchEnv(dir, cache)
	pr, pw, err := os.Pipe()
	if err != nil {
		return l, err
	}
	defer pr.Close()
	cmd.Stdout, cmd.Stderr = pw, pw

	var (
		mu     sync.Mutex
		tail   []string // the last lines, for errors
		bad    []string
		listed = make(chan time.Time, 1)
	)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			at, line := time.Now(), sc.Text()
			mu.Lock()
			tail = append(tail, line)
			if len(tail) > 20 {
				tail = tail[1:]
			}
			if badLine.MatchString(line) {
				bad = append(bad, line)
			}
			mu.Unlock()
			if m := listedLine.FindStringSubmatch(line); m != nil {
				if n, _ := strconv.Atoi(m[1]); n > 0 {
					select {
					case listed <- at:
					default:
					}
				}
			}
		}
	}()
	logTail := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(tail, "\n")
	}

	w.Drain()
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		pw.Close()
		return l, err
	}
	pw.Close()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		select {
		case <-scanned:
		case <-time.After(2 * time.Second):
		}
	}()

	pid := cmd.Process.Pid
	deadline := t0.Add(30 * time.Second)
	for {
		at, err := w.WaitMapped(pid, title, 200*time.Millisecond)
		if err == nil {
			l.mapped = at.Sub(t0)
			break
		}
		select {
		case <-exited:
			return l, fmt.Errorf("exited before its window was mapped:\n%s", logTail())
		default:
		}
		if time.Now().After(deadline) {
			return l, fmt.Errorf("no window mapped within 30 s:\n%s", logTail())
		}
	}
	if app {
		select {
		case at := <-listed:
			l.listed = at.Sub(t0)
		case <-exited:
			return l, fmt.Errorf("exited before listing patients:\n%s", logTail())
		case <-time.After(60 * time.Second):
			return l, fmt.Errorf("no patient list within 60 s:\n%s", logTail())
		}
		m, err := procstat.Read(pid)
		if err != nil {
			return l, err
		}
		l.rssList = m.RSS
	}
	time.Sleep(settle)
	m, err := procstat.Read(pid)
	if err != nil {
		return l, fmt.Errorf("read its memory: %w\n%s", err, logTail())
	}
	l.rssIdle, l.hwm = m.RSS, m.HWM
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		return l, fmt.Errorf("logged %q", bad)
	}
	return l, nil
}

// launchEnv is the environment of one launch: this one's, with a fresh
// home, config folder and in-memory keyring under dir, the shared cache
// folder, and a UTF-8 locale.
func launchEnv(dir, cache string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CCEXPLORER_") || strings.HasPrefix(k, "XDG_") || k == "HOME" || k == "LANG" || strings.HasPrefix(k, "LC_") {
			continue
		}
		env = append(env, kv)
	}
	for _, sub := range []string{"home", "config", "xdg-config", "xdg-data"} {
		_ = os.MkdirAll(filepath.Join(dir, sub), 0o700)
	}
	return append(env,
		"HOME="+filepath.Join(dir, "home"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "xdg-config"),
		"XDG_CACHE_HOME="+cache,
		"XDG_DATA_HOME="+filepath.Join(dir, "xdg-data"),
		"CCEXPLORER_CONFIG_DIR="+filepath.Join(dir, "config"),
		"CCEXPLORER_KEYRING_BACKEND=memory",
		"LANG=en_GB.UTF-8",
	)
}
