package fhirclient_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

// TestLoadSandboxAndClient runs the sandbox and the FHIR client together on
// loopback: one client credentials log-in, then 100 workers searching with
// random parameters and following next links for 10 seconds. Every search
// and page must succeed; throughput and errors are printed.
func TestLoadSandboxAndClient(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	const (
		workers  = 100
		duration = 10 * time.Second
		patients = 200
	)
	srv, err := sandbox.Start(sandbox.Config{Addr: "127.0.0.1:0", Patients: patients})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	info := srv.Info()
	var secret string
	for _, c := range info.Clients {
		if c.ClientID == sandbox.ClientMedicationAccess { // user/*.read: every type
			secret = c.ClientSecret
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = workers, workers
	defer tr.CloseIdleConnections()
	base := &http.Client{Transport: tr}
	sess, err := auth.ClientCredentials{TokenURL: info.TokenEndpoint, ClientID: sandbox.ClientMedicationAccess,
		ClientSecret: secret, Auth: auth.ClientAuthBasic, HTTPClient: base}.Login(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fc := fhirclient.NewWithOptions(info.FHIRBase, sess.HTTPClient(base), fhirclient.Options{Timeout: 30 * time.Second})
	if _, err := fc.Capabilities(context.Background()); err != nil {
		t.Fatal(err)
	}

	type search struct {
		typ    string
		params func(r *rand.Rand) url.Values
	}
	patient := func(r *rand.Rand) string { return strconv.Itoa(1 + r.IntN(patients)) }
	searches := []search{
		{"Patient", func(r *rand.Rand) url.Values {
			v := url.Values{"family": {string(rune('a' + r.IntN(26)))}}
			if r.IntN(2) == 0 {
				v.Set("gender", []string{"male", "female"}[r.IntN(2)])
			}
			if r.IntN(3) == 0 {
				v.Set("birthdate", fhirclient.DateParam(fhirclient.PrefixGe, strconv.Itoa(1930+r.IntN(80))))
			}
			return v
		}},
		{"Observation", func(r *rand.Rand) url.Values {
			return url.Values{"patient": {patient(r)}, "_include": {"Observation:patient"}}
		}},
		{"Encounter", func(r *rand.Rand) url.Values { return url.Values{"patient": {patient(r)}} }},
		{"Condition", func(r *rand.Rand) url.Values { return url.Values{"patient": {patient(r)}} }},
		{"Patient", func(r *rand.Rand) url.Values {
			return url.Values{"_id": {patient(r)}, "_revinclude": {"Condition:patient"}}
		}},
		{"Organization", func(r *rand.Rand) url.Values { return url.Values{} }},
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var requests, entries, failures atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			fail := func(what string, err error) {
				if ctx.Err() != nil {
					return // the test's end, not a failure
				}
				failures.Add(1)
				firstErr.Do(func() { t.Errorf("worker %d: %s: %v", w, what, err) })
			}
			for ctx.Err() == nil {
				s := searches[r.IntN(len(searches))]
				params := s.params(r)
				params.Set("_count", strconv.Itoa(1+r.IntN(20)))
				b, err := fc.Search(ctx, s.typ, params)
				if err != nil {
					fail(fc.SearchURL(s.typ, params), err)
					continue
				}
				requests.Add(1)
				entries.Add(int64(len(b.Entries)))
				for range r.IntN(3) { // follow up to two next links
					next, err := fc.Next(ctx, b)
					if err != nil {
						if b.Link("next") != "" {
							fail("next page of "+fc.SearchURL(s.typ, params), err)
						}
						break
					}
					requests.Add(1)
					entries.Add(int64(len(next.Entries)))
					b = next
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("%d workers for %v: %d searches and pages (%.0f/s), %d entries, %d errors",
		workers, elapsed.Round(time.Millisecond), requests.Load(), float64(requests.Load())/elapsed.Seconds(),
		entries.Load(), failures.Load())
	if requests.Load() == 0 {
		t.Error("no request succeeded")
	}
	if n := failures.Load(); n != 0 {
		t.Errorf("%d errors", n)
	}
}
