//go:build linux && cgo

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/careconnectexplorer/ccexplorer/bench/internal/sandboxrig"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

const (
	rowsEntries = 10000
	budgetRows  = 2.0 // rows at most 2× encoding/json into map[string]any
)

// rowsResult is figure 3 for one resource type.
type rowsResult struct {
	Type      string          `json:"type"`
	Bytes     int             `json:"bytes"`
	Rows      []time.Duration `json:"rows"` // DecodeBundle + Rows, one per round
	JSON      []time.Duration `json:"json"` // json.Unmarshal into map[string]any
	RowsAlloc int64           `json:"rows_alloc"`
	JSONAlloc int64           `json:"json_alloc"`
	Ratios    []float64       `json:"ratios"` // rows/json of each round
}

// runRows measures figure 3 in a child process.
func runRows(c *config) []row {
	const name = "3 rows, 10,000-entry searchset"
	var res []rowsResult
	if err := runChildProcess(c, "rows", &res); err != nil {
		return errorRow(name, err)
	}
	var out []row
	for _, r := range res {
		rm, jm := median(append([]time.Duration(nil), r.Rows...)), median(append([]time.Duration(nil), r.JSON...))
		x := float64(rm) / float64(jm)
		out = append(out, row{
			Figure: fmt.Sprintf("3 rows, 10,000 %ss", r.Type), Measured: ms(rm), Baseline: "encoding/json " + ms(jm),
			Ratio: ratio(x), Budget: fmt.Sprintf("≤ %.0f×", budgetRows), Result: verdict(x <= budgetRows),
			Notes: []string{fmt.Sprintf("%.1f MB searchset from the sandbox; median of %d alternating rounds (rows %s, json %s; per-round ratio %s); allocated %s vs %s per decode",
				float64(r.Bytes)/1e6, len(r.Rows), spread(r.Rows, ms), spread(r.JSON, ms), spread(r.Ratios, func(f float64) string { return fmt.Sprintf("%.2f", f) }),
				mb(r.RowsAlloc), mb(r.JSONAlloc))},
		})
	}
	return out
}

// childRows builds 10,000-entry Patient and Observation searchsets from
// the sandbox's own data, then alternates timing DecodeBundle+Rows and
// encoding/json on the same bytes.
func childRows(c *config) ([]rowsResult, error) {
	ctx := context.Background()
	rig, err := sandboxrig.Start(ctx, sandboxrig.Options{Patients: c.obsPatients})
	if err != nil {
		return nil, err
	}
	sets := map[string][]byte{}
	for _, typ := range []string{"Patient", "Observation"} {
		b, err := rig.Client.SearchAll(ctx, typ, url.Values{"_count": {"500"}}, fhirclient.FetchOptions{Max: rowsEntries})
		if err != nil {
			rig.Close()
			return nil, fmt.Errorf("fetch %d %ss: %w", rowsEntries, typ, err)
		}
		if len(b.Entries) != rowsEntries {
			rig.Close()
			return nil, fmt.Errorf("the sandbox gave %d %ss, want %d (raise -rows-patients)", len(b.Entries), typ, rowsEntries)
		}
		sets[typ] = searchsetJSON(typ, b)
	}
	rig.Close()
	rig = nil
	runtime.GC()

	if p := c.profilePath("rows"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	var out []rowsResult
	for _, typ := range []string{"Patient", "Observation"} {
		data := sets[typ]
		r := rowsResult{Type: typ, Bytes: len(data)}
		rowsOp := func() error {
			b, err := fhirclient.DecodeBundle(data)
			if err != nil {
				return err
			}
			if t := fhirclient.Rows(typ, b); len(t.Rows) != rowsEntries {
				return fmt.Errorf("%d rows, want %d", len(t.Rows), rowsEntries)
			}
			return nil
		}
		jsonOp := func() error {
			var m map[string]any
			return json.Unmarshal(data, &m)
		}
		// A warm-up of each, then rounds that alternate which goes first.
		for _, op := range []func() error{rowsOp, jsonOp} {
			if err := op(); err != nil {
				return nil, err
			}
		}
		for i := range c.count {
			var tr, tj time.Duration
			var ar, aj int64
			var err error
			timeRows := func() {
				pprof.Do(context.Background(), pprof.Labels("op", "rows", "type", typ), func(context.Context) {
					tr, ar, err = timeOp(rowsOp)
				})
			}
			timeJSON := func() {
				pprof.Do(context.Background(), pprof.Labels("op", "encoding/json", "type", typ), func(context.Context) {
					tj, aj, err = timeOp(jsonOp)
				})
			}
			if i%2 == 0 {
				timeRows()
				if err == nil {
					timeJSON()
				}
			} else {
				timeJSON()
				if err == nil {
					timeRows()
				}
			}
			if err != nil {
				return nil, err
			}
			r.Rows, r.JSON, r.RowsAlloc, r.JSONAlloc = append(r.Rows, tr), append(r.JSON, tj), ar, aj
			r.Ratios = append(r.Ratios, float64(tr)/float64(tj))
		}
		out = append(out, r)
	}
	return out, nil
}

// timeOp runs op three times after a GC and returns the mean time and
// bytes allocated per run.
func timeOp(op func() error) (time.Duration, int64, error) {
	const n = 3
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	for range n {
		if err := op(); err != nil {
			return 0, 0, err
		}
	}
	d := time.Since(t0) / n
	runtime.ReadMemStats(&after)
	return d, int64(after.TotalAlloc-before.TotalAlloc) / n, nil
}

// searchsetJSON lays the fetched entries out again as one searchset
// Bundle, as a server answering with all of them at once would.
func searchsetJSON(typ string, b *fhirclient.Bundle) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `{"resourceType":"Bundle","type":"searchset","total":%d,"link":[{"relation":"self","url":"http://127.0.0.1/ccri-fhir/STU3/%s?_count=%d"}],"entry":[`,
		len(b.Entries), typ, len(b.Entries))
	for i, e := range b.Entries {
		if i > 0 {
			buf.WriteByte(',')
		}
		full, _ := json.Marshal(e.FullURL)
		fmt.Fprintf(&buf, `{"fullUrl":%s,"resource":%s,"search":{"mode":"match"}}`, full, e.Resource)
	}
	buf.WriteString("]}")
	return buf.Bytes()
}
