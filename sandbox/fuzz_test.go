package sandbox

import (
	"errors"
	"net/url"
	"sync"
	"testing"
)

var (
	fuzzDataOnce sync.Once
	fuzzData     *dataset
)

// FuzzParseQuery feeds arbitrary query strings to the search parser: it must never panic, must
// report malformed searches as searchErrors, and a parsed search must run and page safely.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []struct {
		q   string
		typ uint8
	}{
		{"family=smi&_count=5", 0},
		{"birthdate=ge1980-01-01&birthdate=lt1990&gender=female", 0},
		{"identifier=https://fhir.nhs.uk/Id/nhs-number|999%20000%200018", 0},
		{"patient=Patient/1&code=http://snomed.info/sct|75367002,8867-4&date=le2024-05-01T10:00:00Z", 7},
		{"_include=Encounter:patient&_include=Encounter:participant&status=finished&_getpagesoffset=3", 4},
		{"_id=1&_revinclude=Observation:patient", 0},
		{"name:exact=Smith&name:contains=it&address-postalcode=ls6", 0},
		{"code=\\,weird\\|&category=|", 7},
	} {
		f.Add(seed.q, seed.typ)
	}
	f.Fuzz(func(t *testing.T, raw string, typIdx uint8) {
		fuzzDataOnce.Do(func() { fuzzData = generate(5, 3) })
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		typ := resourceTypes[int(typIdx)%len(resourceTypes)]
		q, err := parseQuery(typ, values)
		if err != nil {
			var se *searchError
			if !errors.As(err, &se) || se.Error() == "" {
				t.Fatalf("parseQuery(%s, %q): error %v is not a searchError", typ, raw, err)
			}
			return
		}
		if q.count < 0 || q.count > maxCount || q.offset < 0 {
			t.Fatalf("count %d offset %d", q.count, q.offset)
		}
		for _, f := range q.filters {
			for _, v := range f.values {
				if f.p != nil && f.p.kind == kindDate && v.lo >= v.hi {
					t.Fatalf("empty date range for %q", v.raw)
				}
			}
		}
		matches := q.run(fuzzData)
		for _, inc := range append(q.includes, q.revIncludes...) {
			for _, m := range matches {
				inc.follow(fuzzData, m)
			}
		}
		_ = matches[min(q.offset, len(matches)):min(q.offset+q.count, len(matches))]
	})
}
