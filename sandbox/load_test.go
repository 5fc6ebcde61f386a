package sandbox

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoad runs 50 concurrent clients against one sandbox for 10 seconds; every answer must be the expected one.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	// Not parallel: the other tests wait, so the load test neither starves them nor is starved.
	s := startSandbox(t, Config{Patients: 200})
	const clients = 50
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	transport := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}
	defer transport.CloseIdleConnections()
	httpClient := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	ids := []string{ClientMedicationAccess, ClientPatientAccess, ClientClinicalAccess, ClientLimitedAccess}
	tokens := map[string]string{}
	for _, id := range ids {
		tokens[id] = clientToken(t, s, id)
	}
	type probe struct {
		path string
		want map[string]int // client -> status
	}
	all := func(code int) map[string]int {
		return map[string]int{ClientMedicationAccess: code, ClientPatientAccess: code, ClientClinicalAccess: code, ClientLimitedAccess: code}
	}
	probes := []probe{
		{"/metadata", all(200)},
		{"/Patient?_count=10&family=s", map[string]int{ClientMedicationAccess: 200, ClientPatientAccess: 200, ClientClinicalAccess: 200, ClientLimitedAccess: 403}},
		{"/Patient/%d", map[string]int{ClientMedicationAccess: 200, ClientPatientAccess: 200, ClientClinicalAccess: 200, ClientLimitedAccess: 403}},
		{"/Observation?patient=%d&_include=Observation:patient", map[string]int{ClientMedicationAccess: 200, ClientPatientAccess: 403, ClientClinicalAccess: 200, ClientLimitedAccess: 403}},
		{"/Patient?_id=%d&_revinclude=Condition:patient&_revinclude=AllergyIntolerance:patient", map[string]int{ClientMedicationAccess: 200, ClientPatientAccess: 200, ClientClinicalAccess: 200, ClientLimitedAccess: 403}},
		{"/Organization?_count=5", all(200)},
		{"/Binary/%d", map[string]int{ClientMedicationAccess: 200, ClientPatientAccess: 403, ClientClinicalAccess: 403, ClientLimitedAccess: 403}},
	}
	var requests, failures atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := ids[c%len(ids)]
			for i := 0; ctx.Err() == nil; i++ {
				p := probes[(c+i)%len(probes)]
				path := p.path
				if strings.Contains(p.path, "%d") {
					path = fmt.Sprintf(p.path, 1+(c*31+i)%200)
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.FHIRBase()+path, nil)
				req.Header.Set("Authorization", "Bearer "+tokens[client])
				resp, err := httpClient.Do(req)
				if ctx.Err() != nil {
					return
				}
				requests.Add(1)
				if err != nil {
					failures.Add(1)
					firstErr.Do(func() { t.Errorf("%s %s: %v", client, path, err) })
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != p.want[client] {
					failures.Add(1)
					firstErr.Do(func() { t.Errorf("%s %s: status %d, want %d", client, path, resp.StatusCode, p.want[client]) })
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d requests from %d clients, %d failures", requests.Load(), clients, failures.Load())
	if failures.Load() != 0 {
		t.Errorf("%d failures", failures.Load())
	}
}
