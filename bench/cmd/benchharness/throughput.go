//go:build linux && cgo

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/careconnectexplorer/ccexplorer/bench/internal/labelprof"
	"github.com/careconnectexplorer/ccexplorer/bench/internal/sandboxrig"
)

const throughputClients = 50

// loadResult is one load run: 50 clients for a fixed time.
type loadResult struct {
	Requests int64         `json:"requests"`
	Errors   int64         `json:"errors"`
	Elapsed  time.Duration `json:"elapsed"`
	P50      time.Duration `json:"p50"`
	P99      time.Duration `json:"p99"`
	Bytes    int64         `json:"bytes"`
	Rounds   []float64     `json:"rounds"` // requests per second of each round
}

func (r loadResult) perSecond() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// add adds a round's counts to r; the latencies are the medians' and
// 99th percentiles' worst round.
func (r *loadResult) add(o loadResult) {
	r.Requests += o.Requests
	r.Errors += o.Errors
	r.Elapsed += o.Elapsed
	r.Bytes += o.Bytes
	r.P50 = max(r.P50, o.P50)
	r.P99 = max(r.P99, o.P99)
	r.Rounds = append(r.Rounds, o.perSecond())
}

// throughputResult is figure 6.
type throughputResult struct {
	Patients   int                      `json:"patients"`
	Searches   []string                 `json:"searches"`
	Sandbox    loadResult               `json:"sandbox"`
	Trivial    loadResult               `json:"trivial"`
	ServerMean time.Duration            `json:"server_mean"`
	CPU        map[string]time.Duration `json:"cpu"`
	CPUTotal   time.Duration            `json:"cpu_total"`
}

// runThroughput measures figure 6 in a child process.
func runThroughput(c *config) []row {
	const name = "6 sandbox searches/s, 50 clients"
	var r throughputResult
	if err := runChildProcess(c, "throughput", &r); err != nil {
		return errorRow(name, err)
	}
	s, t := r.Sandbox, r.Trivial
	result := "-"
	if s.Errors > 0 || s.Requests == 0 {
		result = "FAIL"
	}
	share := func(side string) string {
		if r.CPUTotal == 0 {
			return "?"
		}
		return fmt.Sprintf("%.0f%%", 100*float64(r.CPU[side])/float64(r.CPUTotal))
	}
	sm, tm := median(append([]float64(nil), s.Rounds...)), median(append([]float64(nil), t.Rounds...))
	return []row{{
		Figure: name, Measured: fmt.Sprintf("%s/s, %d errors", perSec(sm), s.Errors),
		Baseline: fmt.Sprintf("trivial handler %s/s", perSec(tm)), Ratio: ratio(sm / tm),
		Budget: "report (0 errors)", Result: result,
		Notes: []string{
			fmt.Sprintf("%d goroutines, one keep-alive connection each, %v in all against a sandbox of %d patients, cycling through %s",
				throughputClients, s.Elapsed.Round(100*time.Millisecond), r.Patients, strings.Join(r.Searches, ", ")),
			fmt.Sprintf("latency p50 %s, p99 %s (worst round); %.1f MB/s of responses; mean time in the sandbox's handler %s",
				ms1(s.P50), ms1(s.P99), float64(s.Bytes)/1e6/s.Elapsed.Seconds(), ms1(r.ServerMean)),
			fmt.Sprintf("baseline: the same 50 clients against a net/http handler that writes a 200-byte JSON body (p50 %s), the ceiling of loopback HTTP on this machine; median of %d rounds of each, alternating (sandbox %s/s, trivial %s/s)",
				ms1(t.P50), len(s.Rounds), spread(s.Rounds, perSec), spread(t.Rounds, perSec)),
			fmt.Sprintf("CPU by pprof label over both: sandbox %s, trivial handler %s, clients %s, unlabelled (GC, runtime) %s (clients and servers share the 2 CPUs)",
				share("server"), share("trivial"), share("client"), share("")),
		},
	}}
}

// childThroughput runs figure 6.
func childThroughput(c *config) (*throughputResult, error) {
	res := &throughputResult{Patients: c.patients}
	var (
		rig *sandboxrig.Rig
		err error
	)
	pprof.Do(context.Background(), sandboxrig.ClientLabels, func(ctx context.Context) {
		rig, err = sandboxrig.Start(ctx, sandboxrig.Options{Patients: c.patients, Conns: throughputClients})
	})
	if err != nil {
		return nil, err
	}
	defer rig.Close()

	// The searches the window and the CLI run most: a patient list, a
	// name search, a demographic filter, one patient's observations.
	searches := func(i int) string {
		switch i % 4 {
		case 0:
			return "Patient?_count=50"
		case 1:
			return fmt.Sprintf("Patient?family=%s", []string{"smi", "jon", "kha", "wil", "tay", "bro"}[i/4%6])
		case 2:
			return "Patient?gender=female&birthdate=ge1980-01-01&_count=20"
		default:
			return fmt.Sprintf("Observation?patient=%d&_count=50", 1+(i/4*37)%c.patients)
		}
	}
	res.Searches = []string{"Patient?_count=50", "Patient?family=<smi, jon, kha, wil, tay, bro>",
		"Patient?gender=female&birthdate=ge1980-01-01&_count=20", "Observation?patient=<every patient in turn>&_count=50"}
	base := rig.Base + "/"
	// Check the searches, and warm the sandbox's caches: every patient's
	// Observations are serialised once before the clock starts.
	for i := range 4 * c.patients {
		if _, err := get(rig, base+searches(i)); err != nil {
			return nil, err
		}
	}

	// The ceiling: the same clients against a handler that does nothing.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	body := []byte(`{"resourceType":"Bundle","type":"searchset","total":0,"link":[{"relation":"self","url":"http://127.0.0.1/ccri-fhir/STU3/Patient?_count=50"}],"entry":[],"meta":{"lastUpdated":"2026-01-01T00:00:00Z"}}`)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write(body)
	})}
	pprof.Do(context.Background(), pprof.Labels("side", "trivial"), func(context.Context) {
		go func() { _ = srv.Serve(ln) }()
	})
	defer srv.Close()
	trivial := "http://" + ln.Addr().String() + "/ccri-fhir/STU3/Patient?_count=50"

	// Open the 50 connections to each server before the clock starts.
	load(300*time.Millisecond, func(i int) (int64, error) { return get(rig, base+searches(i)) })
	load(300*time.Millisecond, func(int) (int64, error) { return get(rig, trivial) })

	// Rounds that alternate the sandbox and the trivial handler, so that
	// both see the same load from the rest of the machine. All of it is
	// profiled, so that both pay the profiler's small cost.
	var prof bytes.Buffer
	if err := pprof.StartCPUProfile(&prof); err != nil {
		return nil, err
	}
	n0, s0 := rig.ServerTime()
	const rounds = 5
	slice := c.duration / rounds
	for r := range rounds {
		sandboxRound := func() {
			res.Sandbox.add(load(slice, func(i int) (int64, error) { return get(rig, base+searches(i)) }))
		}
		trivialRound := func() {
			res.Trivial.add(load(min(slice, time.Second), func(int) (int64, error) { return get(rig, trivial) }))
		}
		if r%2 == 0 {
			sandboxRound()
			trivialRound()
		} else {
			trivialRound()
			sandboxRound()
		}
	}
	pprof.StopCPUProfile()
	n1, s1 := rig.ServerTime()
	if n1 > n0 {
		res.ServerMean = (s1 - s0) / time.Duration(n1-n0)
	}
	if res.CPU, res.CPUTotal, err = labelprof.Sum(prof.Bytes(), "side"); err != nil {
		return nil, err
	}
	if p := c.profilePath("sandbox"); p != "" {
		if err := os.WriteFile(p, prof.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func perSec(f float64) string { return thousands(int64(f)) }

// get fetches u with the rig's token and its shared connection pool, and
// discards the body.
func get(rig *sandboxrig.Rig, u string) (int64, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+rig.Token)
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := rig.Transport.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return n, nil
}

// load runs throughputClients goroutines calling do for d and counts.
func load(d time.Duration, do func(i int) (int64, error)) loadResult {
	var (
		requests, errs, nbytes atomic.Int64
		mu                     sync.Mutex
		lat                    []time.Duration
		wg                     sync.WaitGroup
	)
	stop := time.Now().Add(d)
	t0 := time.Now()
	for g := range throughputClients {
		wg.Add(1)
		pprof.Do(context.Background(), sandboxrig.ClientLabels, func(context.Context) {
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for i := g; time.Now().Before(stop); i += throughputClients {
					t := time.Now()
					n, err := do(i)
					mine = append(mine, time.Since(t))
					nbytes.Add(n)
					if err != nil {
						errs.Add(1)
						continue
					}
					requests.Add(1)
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		})
	}
	wg.Wait()
	r := loadResult{Requests: requests.Load(), Errors: errs.Load(), Elapsed: time.Since(t0), Bytes: nbytes.Load()}
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50, r.P99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return r
}
