package sandbox

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// records returns every record of the dataset, type by type.
func allRecords(d *dataset) []*record {
	var recs []*record
	for _, typ := range resourceTypes {
		recs = append(recs, d.table(typ).records...)
	}
	return recs
}

func TestResourceJSONsMatchesSequential(t *testing.T) {
	t.Parallel()
	d, ref := generate(5, 12), generate(5, 12)
	recs, refRecs := allRecords(d), allRecords(ref)
	c := jsonCache{workers: 4}
	for i := 0; i < len(recs); i += 3 { // a mix of cached and uncached records
		if _, err := d.resourceJSON(&c, recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	check := func(got [][]byte) {
		t.Helper()
		if len(got) != len(recs) {
			t.Fatalf("%d results for %d records", len(got), len(recs))
		}
		for i, r := range refRecs {
			want, err := toFHIRJSON(ref.resource(r))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[i], want) {
				t.Fatalf("%s: concurrent\n%s\nsequential\n%s", r.ref(), got[i], want)
			}
		}
	}
	got, err := d.resourceJSONs(&c, recs)
	if err != nil {
		t.Fatal(err)
	}
	check(got)
	if n := c.parallel.Load(); n != 1 {
		t.Errorf("%d parallel batches for a cold batch, want 1", n)
	}
	var size int64
	for _, r := range recs {
		b := r.json.Load()
		if b == nil {
			t.Fatalf("%s not cached", r.ref())
		}
		size += int64(len(*b))
	}
	if c.bytes.Load() != size {
		t.Errorf("cache counts %d bytes, records hold %d", c.bytes.Load(), size)
	}
	// Warm: same bytes, no goroutines.
	got, err = d.resourceJSONs(&c, recs)
	if err != nil {
		t.Fatal(err)
	}
	check(got)
	if n := c.parallel.Load(); n != 1 {
		t.Errorf("a warm batch went parallel (%d batches)", n)
	}
	// One uncached record stays on the calling goroutine too.
	recs[7].json.Store(nil)
	if _, err := d.resourceJSONs(&c, recs); err != nil {
		t.Fatal(err)
	}
	if n := c.parallel.Load(); n != 1 {
		t.Errorf("a batch with one cold record went parallel (%d batches)", n)
	}
}

// breakPatient makes a patient's record fail: "error" fails STU3 validation, "panic" panics while building it.
func breakPatient(d *dataset, i int, how string) {
	p := d.patients[i].data.(*patientData)
	switch how {
	case "error":
		p.gender = fmt.Sprintf("not-a-gender-%d", i)
	case "panic":
		p.gp = nil
	}
}

// outcomeOf serialises recs with resourceJSONs and reports the error or the panic.
func outcomeOf(d *dataset, c *jsonCache, recs []*record) (res [][]byte, panicked any, err error) {
	defer func() { panicked = recover() }()
	res, err = d.resourceJSONs(c, recs)
	return res, nil, err
}

func TestResourceJSONsFirstFailureWins(t *testing.T) {
	t.Parallel()
	type broken struct {
		patient int
		how     string
	}
	for _, tc := range []struct {
		name   string
		broken []broken
		rounds int // 10 when 0
	}{
		{"one error", []broken{{9, "error"}}, 0},
		{"two errors", []broken{{4, "error"}, {15, "error"}}, 0},
		{"error at the start", []broken{{0, "error"}, {1, "error"}}, 0},
		{"error at the end", []broken{{19, "error"}}, 0},
		{"error before a panic", []broken{{6, "error"}, {8, "panic"}}, 0},
		{"panic before an error", []broken{{3, "panic"}, {11, "error"}}, 0},
		{"every patient from the third", func() (bs []broken) {
			for i := 2; i < 20; i++ {
				bs = append(bs, broken{i, "error"})
			}
			return bs
		}(), 50}, // two workers fail at once: the lower position must win
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rounds := tc.rounds
			if rounds == 0 {
				rounds = 10
			}
			for round := range rounds { // the workers' interleaving varies
				build := func() (*dataset, []*record) {
					d := generate(3, 20)
					for _, b := range tc.broken {
						breakPatient(d, b.patient, b.how)
					}
					// Practitioners first: a few cached-able records before the patients.
					recs := append([]*record(nil), d.table(typePractitioner).records...)
					return d, append(recs, d.patients...)
				}
				d, recs := build()
				_, p, err := outcomeOf(d, &jsonCache{workers: 4}, recs)
				seqD, seqRecs := build()
				_, wantP, wantErr := outcomeOf(seqD, &jsonCache{workers: 1}, seqRecs)
				if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
					t.Fatalf("round %d: error %v, sequential %v", round, err, wantErr)
				}
				if fmt.Sprint(p) != fmt.Sprint(wantP) {
					t.Fatalf("round %d: panic %v, sequential %v", round, p, wantP)
				}
				first := tc.broken[0]
				if first.how == "error" && (err == nil || !strings.Contains(err.Error(), d.patients[first.patient].ref()+":")) {
					t.Fatalf("round %d: error %v, want one about %s", round, err, d.patients[first.patient].ref())
				}
				if first.how == "panic" && p == nil {
					t.Fatalf("round %d: no panic (error %v)", round, err)
				}
			}
		})
	}
}

var bundleID = regexp.MustCompile(`^\{"resourceType":"Bundle","id":"[0-9a-f-]{36}"`)

// sameSandbox builds a sandbox without a listener, with a fixed root URL and clock.
func sameSandbox(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.init("http://sandbox.test"); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestColdSearchPagesMatchWarmOnes(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	cfg := Config{Patients: 25, Seed: 11, Now: func() time.Time { return at }}
	cold, warm := sameSandbox(t, cfg), sameSandbox(t, cfg)
	cold.cache.workers = 4
	for _, r := range allRecords(warm.data) { // the sequential path, one record at a time
		if _, err := warm.data.resourceJSON(&warm.cache, r); err != nil {
			t.Fatal(err)
		}
	}
	all := &grant{scopes: []string{"user/*.read", "user/DocumentReference", "user/Binary"}}
	patientsOnly := &grant{scopes: []string{"user/Patient.read"}}
	for _, tc := range []struct {
		query string
		g     *grant
	}{
		{"Observation?_count=100", all},
		{"Observation?_count=100&_getpagesoffset=100", all},
		{"Patient?_count=10&_revinclude=Observation:patient&_revinclude=Condition:patient", all},
		{"Encounter?_count=50&_include=Encounter:patient&_include=Encounter:participant", all},
		{"Patient?_count=5&_revinclude=Observation:patient&_include=Patient:general-practitioner", patientsOnly},
		{"Binary?_count=20", all},
		{"Patient?family=zzzz-no-such-family", all},
		{"Patient?_count=0", all},
	} {
		typ, raw, _ := strings.Cut(tc.query, "?")
		vals, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		q, err := parseQuery(typ, vals)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		before := cold.cache.parallel.Load()
		got, err := cold.searchBundle(q, tc.g, raw)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		want, err := warm.searchBundle(q, tc.g, raw)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if !bundleID.Match(got) || !bundleID.Match(want) {
			t.Fatalf("%s: no bundle id at the start of %.80s", tc.query, got)
		}
		got, want = bundleID.ReplaceAll(got, nil), bundleID.ReplaceAll(want, nil)
		if !bytes.Equal(got, want) {
			i := 0
			for i < min(len(got), len(want)) && got[i] == want[i] {
				i++
			}
			t.Errorf("%s: cold page differs from the warm one at byte %d\ncold …%.200s\nwarm …%.200s", tc.query, i, got[max(0, i-40):], want[max(0, i-40):])
		}
		// The same page again is warm: no goroutines.
		mid := cold.cache.parallel.Load()
		if _, err := cold.searchBundle(q, tc.g, raw); err != nil {
			t.Fatal(err)
		}
		if n := cold.cache.parallel.Load(); n != mid {
			t.Errorf("%s: the warm page went parallel", tc.query)
		}
		if strings.HasPrefix(tc.query, "Observation?_count=100") && mid == before {
			t.Errorf("%s: the cold page was not serialised in parallel", tc.query)
		}
	}
	if n := warm.cache.parallel.Load(); n != 0 {
		t.Errorf("the warm sandbox went parallel %d times", n)
	}
}

func TestSearchReportsTheFirstFailingEntry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query  string
		broken []int // indexes of the patients whose record fails; the first is the one to report
	}{
		{"Patient?_count=20", []int{6, 12}},
		// The matches come first, then the included patients.
		{"Observation?patient=3&_include=Observation:patient", []int{2}},
		{"Patient?_id=2&_revinclude=Observation:patient", []int{1}},
	} {
		s := sameSandbox(t, Config{Patients: 20, Seed: 4})
		s.cache.workers = 4
		for _, i := range tc.broken {
			breakPatient(s.data, i, "error")
		}
		typ, raw, _ := strings.Cut(tc.query, "?")
		vals, _ := url.ParseQuery(raw)
		q, err := parseQuery(typ, vals)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.searchBundle(q, &grant{scopes: []string{"user/*.read"}}, raw)
		if want := s.data.patients[tc.broken[0]].ref() + ":"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one about %s", tc.query, err, want)
		}
		seq := sameSandbox(t, Config{Patients: 20, Seed: 4})
		seq.cache.workers = 1
		for _, i := range tc.broken {
			breakPatient(seq.data, i, "error")
		}
		_, wantErr := seq.searchBundle(q, &grant{scopes: []string{"user/*.read"}}, raw)
		if wantErr == nil || err == nil || err.Error() != wantErr.Error() {
			t.Errorf("%s: error %v, sequential %v", tc.query, err, wantErr)
		}
	}
}

func TestInOrderInParallel(t *testing.T) {
	t.Parallel()
	errAt := func(k int) error { return fmt.Errorf("failure %d", k) }
	wait := func(t *testing.T, ch chan struct{}) {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Error("the other call never came")
		}
	}
	// run calls inOrderInParallel and reports its error or panic.
	run := func(n, workers int, do func(int) error) (panicked any, err error) {
		defer func() { panicked = recover() }()
		return nil, inOrderInParallel(n, workers, do)
	}
	t.Run("the lower failure wins when it is recorded first", func(t *testing.T) {
		t.Parallel()
		oneStarted, zeroDone := make(chan struct{}), make(chan struct{})
		p, err := run(2, 2, func(k int) error {
			if k == 0 {
				wait(t, oneStarted)
				defer close(zeroDone)
				return errAt(0)
			}
			close(oneStarted)
			wait(t, zeroDone)
			time.Sleep(20 * time.Millisecond) // let 0's failure be recorded
			return errAt(1)
		})
		if p != nil || err == nil || err.Error() != "failure 0" {
			t.Errorf("error %v, panic %v; want failure 0", err, p)
		}
	})
	t.Run("the lower failure wins when it is recorded last", func(t *testing.T) {
		t.Parallel()
		oneDone := make(chan struct{})
		p, err := run(2, 2, func(k int) error {
			if k == 0 {
				wait(t, oneDone)
				time.Sleep(20 * time.Millisecond) // let 1's failure be recorded
				return errAt(0)
			}
			defer close(oneDone)
			return errAt(1)
		})
		if p != nil || err == nil || err.Error() != "failure 0" {
			t.Errorf("error %v, panic %v; want failure 0", err, p)
		}
	})
	t.Run("a panic below an error is raised again", func(t *testing.T) {
		t.Parallel()
		oneDone := make(chan struct{})
		p, err := run(2, 2, func(k int) error {
			if k == 0 {
				wait(t, oneDone)
				panic("boom at 0")
			}
			defer close(oneDone)
			return errAt(1)
		})
		if p != "boom at 0" || err != nil {
			t.Errorf("error %v, panic %v; want the panic", err, p)
		}
	})
	t.Run("an error below a panic is returned", func(t *testing.T) {
		t.Parallel()
		oneDone := make(chan struct{})
		p, err := run(2, 2, func(k int) error {
			if k == 0 {
				wait(t, oneDone)
				return errAt(0)
			}
			defer close(oneDone)
			panic("boom at 1")
		})
		if p != nil || err == nil || err.Error() != "failure 0" {
			t.Errorf("error %v, panic %v; want failure 0", err, p)
		}
	})
	t.Run("every call before the first failure is made once", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ n, workers, fail int }{{100, 3, -1}, {100, 2, 60}, {7, 16, 3}, {1, 4, -1}} {
			calls := make([]atomic.Int32, tc.n)
			err := inOrderInParallel(tc.n, tc.workers, func(k int) error {
				calls[k].Add(1)
				if k%7 == 0 {
					time.Sleep(time.Millisecond)
				}
				if tc.fail >= 0 && k >= tc.fail {
					return errAt(k)
				}
				return nil
			})
			if tc.fail < 0 && err != nil || tc.fail >= 0 && (err == nil || err.Error() != errAt(tc.fail).Error()) {
				t.Errorf("%+v: error %v", tc, err)
			}
			for k := range calls {
				if n := calls[k].Load(); n > 1 || n == 0 && (tc.fail < 0 || k <= tc.fail) {
					t.Errorf("%+v: do(%d) called %d times", tc, k, n)
				}
			}
		}
	})
}
