package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// benchSandbox is shared by the benchmarks: 10000 patients.
var (
	benchOnce sync.Once
	benchSrv  *Server
	benchErr  error
)

func bigSandbox(b *testing.B) *Server {
	b.Helper()
	benchOnce.Do(func() {
		start := time.Now()
		benchSrv, benchErr = Start(Config{Addr: "127.0.0.1:0", Patients: 10000})
		if benchErr == nil {
			fmt.Printf("sandbox with 10000 patients started in %v\n", time.Since(start).Round(time.Millisecond))
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchSrv
}

func BenchmarkGenerate10000(b *testing.B) {
	for b.Loop() {
		generate(1, 10000)
	}
}

// BenchmarkSearch10000 measures searches over 10000 patients through the HTTP handler, bypassing the network.
func BenchmarkSearch10000(b *testing.B) {
	s := bigSandbox(b)
	tok := clientToken(b, s, ClientMedicationAccess)
	h := s.Handler()
	for _, q := range []string{
		"Patient?family=smi",
		"Patient?birthdate=ge1980-01-01&birthdate=lt1981-01-01&gender=female",
		"Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|" + s.data.patients[9999].data.(*patientData).nhs,
		"Observation?code=http://snomed.info/sct|75367002&date=ge2024",
		"Observation?patient=5000",
		"Patient?_id=5000&_revinclude=Observation:patient&_revinclude=Condition:patient",
		"Encounter?status=planned&_include=Encounter:patient&_count=100",
	} {
		u, err := url.Parse(s.FHIRBase() + "/" + q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				w := &discardWriter{header: http.Header{}}
				req := (&http.Request{Method: http.MethodGet, URL: u, Header: http.Header{"Authorization": {"Bearer " + tok}}}).WithContext(context.Background())
				h.ServeHTTP(w, req)
				if w.status != 0 && w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	}
}

type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

// BenchmarkColdObservationPage measures a 100-entry Observation page whose resources are not
// serialised yet (figure 5's cold fetch), through the HTTP handler.
func BenchmarkColdObservationPage(b *testing.B) {
	s := bigSandbox(b)
	tok := clientToken(b, s, ClientMedicationAccess)
	h := s.Handler()
	const query = "_count=100&_getpagesoffset=5000"
	u, err := url.Parse(s.FHIRBase() + "/Observation?" + query)
	if err != nil {
		b.Fatal(err)
	}
	vals, _ := url.ParseQuery(query)
	q, err := parseQuery(typeObservation, vals)
	if err != nil {
		b.Fatal(err)
	}
	page := q.run(s.data)[5000:5100]
	for b.Loop() {
		for _, r := range page {
			if p := r.json.Swap(nil); p != nil {
				s.cache.bytes.Add(-int64(len(*p)))
			}
		}
		w := &discardWriter{header: http.Header{}}
		req := (&http.Request{Method: http.MethodGet, URL: u, Header: http.Header{"Authorization": {"Bearer " + tok}}}).WithContext(context.Background())
		h.ServeHTTP(w, req)
		if w.status != 0 && w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}
