//go:build linux && cgo

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/careconnectexplorer/ccexplorer/bench/internal/labelprof"
	"github.com/careconnectexplorer/ccexplorer/bench/internal/procstat"
	"github.com/careconnectexplorer/ccexplorer/bench/internal/sandboxrig"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

const (
	fetchMatches = 10000
	fetchPage    = 100
	fetchWarm    = 3 // warm fetches after the cold one
)

// fetchResult is figure 5.
type fetchResult struct {
	Patients   int                      `json:"patients"`
	Total      int                      `json:"total"`
	Pages      int                      `json:"pages"`
	Bytes      int64                    `json:"bytes"`
	Cold       time.Duration            `json:"cold"`
	Warm       []time.Duration          `json:"warm"`
	Raw        []time.Duration          `json:"raw"` // the same pages, bytes discarded
	RSSBefore  int64                    `json:"rss_before"`
	PeakCold   int64                    `json:"peak_cold"`   // VmHWM over the cold fetch
	Peak       int64                    `json:"peak"`        // VmHWM over the warm fetches
	Retained   int64                    `json:"retained"`    // live heap held by one fetched result
	ServerWall float64                  `json:"server_wall"` // share of the warm wall time inside the sandbox's handler
	CPU        map[string]time.Duration `json:"cpu"`         // warm fetches' CPU time by side label
	CPUTotal   time.Duration            `json:"cpu_total"`
}

// runFetchAll measures figure 5 in a child process.
func runFetchAll(c *config) []row {
	const name = "5 fetch all, 10,000 Observations"
	var r fetchResult
	if err := runChildProcess(c, "fetchall", &r); err != nil {
		return errorRow(name, err)
	}
	wm, rm := median(append([]time.Duration(nil), r.Warm...)), median(append([]time.Duration(nil), r.Raw...))
	share := func(side string) string {
		if r.CPUTotal == 0 {
			return "?"
		}
		return fmt.Sprintf("%.0f%%", 100*float64(r.CPU[side])/float64(r.CPUTotal))
	}
	return []row{{
		Figure: name, Measured: fmt.Sprintf("%s (cold %s), peak RSS %s", ms(wm), ms(r.Cold), mb(max(r.Peak, r.PeakCold))),
		Baseline: "raw pages " + ms(rm), Ratio: ratio(float64(wm) / float64(rm)), Budget: "report", Result: "-",
		Notes: []string{
			fmt.Sprintf("%d pages of %d (%.1f MB) from a sandbox of %d patients (%s Observations) in the same process; median of %d warm fetches (%s); the first, cold fetch is slower because the sandbox turns each resource into JSON through the typed FHIR model (jsonformat) on first use",
				r.Pages, fetchPage, float64(r.Bytes)/1e6, r.Patients, thousands(int64(r.Total)), len(r.Warm), spread(r.Warm, ms)),
			fmt.Sprintf("baseline: the same page URLs fetched with net/http and the bodies discarded (no decoding), %s", spread(r.Raw, ms)),
			fmt.Sprintf("peak RSS is the process's VmHWM (sandbox and client together) over all the fetches: %s over the cold one, %s over the warm ones, %s before the first; one fetched result (10,000 entries, raw JSON and tree) holds %s of live heap",
				mb(r.PeakCold), mb(r.Peak), mb(r.RSSBefore), mb(r.Retained)),
			fmt.Sprintf("time split: %.0f%% of the warm wall time inside the sandbox's handler (timing middleware); CPU profile by pprof label: client %s, server %s, unlabelled (GC workers, runtime) %s of %s",
				100*r.ServerWall, share("client"), share("server"), share(""), ms(r.CPUTotal)),
		},
	}}
}

// recorder notes the URL of every request that goes through it.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	urls []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL.String())
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// childFetchAll runs figure 5: the sandbox and the client in this process,
// every client goroutine labelled side=client and every server goroutine
// side=server.
func childFetchAll(c *config) (*fetchResult, error) {
	res := &fetchResult{Patients: c.patients}
	var (
		rig *sandboxrig.Rig
		err error
		rec *recorder
		cl  *fhirclient.Client
	)
	clientSide := func(fn func(ctx context.Context)) {
		pprof.Do(context.Background(), sandboxrig.ClientLabels, fn)
	}
	clientSide(func(ctx context.Context) {
		rig, err = sandboxrig.Start(ctx, sandboxrig.Options{Patients: c.patients})
		if err == nil {
			rec = &recorder{next: rig.HTTP.Transport}
			cl = fhirclient.New(rig.Base, &http.Client{Transport: rec})
		}
	})
	if err != nil {
		return nil, err
	}
	defer rig.Close()
	params := url.Values{"_count": {fmt.Sprint(fetchPage)}}
	var last *fhirclient.Bundle
	fetch := func() (time.Duration, error) {
		var (
			b   *fhirclient.Bundle
			err error
		)
		last = nil
		t0 := time.Now()
		clientSide(func(ctx context.Context) {
			b, err = cl.SearchAll(ctx, "Observation", params, fhirclient.FetchOptions{Max: fetchMatches})
		})
		d := time.Since(t0)
		if err != nil {
			return 0, err
		}
		if len(b.Entries) != fetchMatches {
			return 0, fmt.Errorf("fetched %d Observations, want %d (raise -patients)", len(b.Entries), fetchMatches)
		}
		if b.Total != nil {
			res.Total = *b.Total
		}
		last = b
		return d, nil
	}

	runtime.GC()
	debug.FreeOSMemory()
	m, err := procstat.Read(0)
	if err != nil {
		return nil, err
	}
	res.RSSBefore = m.RSS
	if err := procstat.ResetPeak(); err != nil {
		return nil, fmt.Errorf("reset VmHWM: %w", err)
	}
	var coldProf bytes.Buffer
	if c.profileDir != "" {
		if err := pprof.StartCPUProfile(&coldProf); err != nil {
			return nil, err
		}
	}
	res.Cold, err = fetch()
	if c.profileDir != "" {
		pprof.StopCPUProfile()
		if err := os.WriteFile(filepath.Join(c.profileDir, "fetchall-cold.cpu.prof"), coldProf.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	if m, err = procstat.Read(0); err != nil {
		return nil, err
	}
	res.PeakCold = m.HWM
	last = nil
	runtime.GC()
	if err := procstat.ResetPeak(); err != nil {
		return nil, err
	}
	rec.mu.Lock()
	pages := append([]string(nil), rec.urls...)
	rec.mu.Unlock()
	res.Pages = len(pages)

	var prof bytes.Buffer
	if err := pprof.StartCPUProfile(&prof); err != nil {
		return nil, err
	}
	n0, s0 := rig.ServerTime()
	var warmWall time.Duration
	for range fetchWarm {
		runtime.GC()
		d, err := fetch()
		if err != nil {
			pprof.StopCPUProfile()
			return nil, err
		}
		res.Warm = append(res.Warm, d)
		warmWall += d
	}
	pprof.StopCPUProfile()
	n1, s1 := rig.ServerTime()
	if n1-n0 != int64(fetchWarm*len(pages)) {
		fmt.Fprintf(os.Stderr, "bench: the server handled %d requests for %d pages × %d fetches\n", n1-n0, len(pages), fetchWarm)
	}
	res.ServerWall = float64(s1-s0) / float64(warmWall)
	if res.CPU, res.CPUTotal, err = labelprof.Sum(prof.Bytes(), "side"); err != nil {
		return nil, err
	}
	if p := c.profilePath("fetchall"); p != "" {
		if err := os.WriteFile(p, prof.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	if m, err = procstat.Read(0); err != nil {
		return nil, err
	}
	res.Peak = m.HWM
	var withResult, without runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&withResult)
	if p := c.profileDir; p != "" {
		// What one fetched result holds: go tool pprof -sample_index=inuse_space.
		f, err := os.Create(filepath.Join(p, "fetchall.heap.prof"))
		if err != nil {
			return nil, err
		}
		err = pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	runtime.KeepAlive(last)
	last = nil
	runtime.GC()
	runtime.ReadMemStats(&without)
	res.Retained = int64(withResult.HeapAlloc) - int64(without.HeapAlloc)

	// The baseline: the same pages, bodies read and discarded.
	raw := &http.Client{Transport: rig.Transport}
	for range fetchWarm {
		var bytesRead int64
		t0 := time.Now()
		for _, u := range pages {
			req, err := http.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+rig.Token)
			req.Header.Set("Accept", "application/fhir+json")
			resp, err := raw.Do(req)
			if err != nil {
				return nil, err
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				return nil, err
			}
			if resp.StatusCode != http.StatusOK {
				return nil, fmt.Errorf("raw GET %s: %s", u, resp.Status)
			}
			bytesRead += n
		}
		res.Raw = append(res.Raw, time.Since(t0))
		res.Bytes = bytesRead
	}
	return res, nil
}
