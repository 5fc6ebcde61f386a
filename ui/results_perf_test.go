package ui

// Benchmarks for the results table, run by bench/cmd/benchharness (make
// bench): the cost of one frame must not grow with the number of rows.
// They hold no timing assertions.

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

// perfDistinctRows is how many different rows the big tables repeat.
const perfDistinctRows = 1000

var (
	perfOnce   sync.Once
	perfBase   map[string]fhirclient.Table // resource type -> perfDistinctRows rows
	perfErr    error
	perfTables sync.Map // resource type and size -> fhirclient.Table
)

// perfSearchset returns a searchset of n Care Connect Patients.
func perfSearchset(n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"resourceType":"Bundle","type":"searchset","total":%d,"entry":[`, n)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"fullUrl":"http://h/fhir/Patient/%d","search":{"mode":"match"},"resource":{"resourceType":"Patient","id":"%d",`+
			`"meta":{"profile":["https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1"]},`+
			`"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9%09d"}],`+
			`"name":[{"use":"official","family":"Family%d","given":["Given%d","Middle"],"prefix":["Ms"]}],`+
			`"gender":"%s","birthDate":"19%02d-%02d-%02d",`+
			`"address":[{"use":"home","line":["%d Leeds Road"],"city":"Leeds","postalCode":"LS%d %dAB"}],`+
			`"generalPractitioner":[{"reference":"Organization/%d","display":"Practice %d"}]}}`,
			i, i, i, i%997, i%389, []string{"female", "male"}[i%2], 30+i%70, 1+i%12, 1+i%28, 1+i%200, 1+i%30, i%10, i%50, i%50)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// perfObservations returns a searchset of n blood pressure Observations.
func perfObservations(n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"resourceType":"Bundle","type":"searchset","total":%d,"entry":[`, n)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"fullUrl":"http://h/fhir/Observation/%d","search":{"mode":"match"},"resource":{"resourceType":"Observation","id":"%d","status":"final",`+
			`"category":[{"coding":[{"system":"http://hl7.org/fhir/observation-category","code":"vital-signs","display":"Vital Signs"}]}],`+
			`"code":{"coding":[{"system":"http://snomed.info/sct","code":"75367002","display":"Blood pressure"}]},`+
			`"subject":{"reference":"Patient/%d"},"effectiveDateTime":"2017-%02d-03T13:30:00+00:00",`+
			`"component":[{"code":{"coding":[{"system":"http://snomed.info/sct","code":"72313002","display":"Systolic arterial pressure"}]},"valueQuantity":{"value":%d,"unit":"mmHg"}},`+
			`{"code":{"coding":[{"system":"http://snomed.info/sct","code":"1091811000000102","display":"Diastolic arterial pressure"}]},"valueQuantity":{"value":%d,"unit":"mmHg"}}]}}`,
			i, i, i%997, 1+i%12, 100+i%60, 60+i%30)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// perfTable returns a table of n rows of resourceType (Patient or
// Observation): perfDistinctRows real rows (decoded and laid out by
// fhirclient) repeated.
func perfTable(b *testing.B, resourceType string, n int) fhirclient.Table {
	b.Helper()
	perfOnce.Do(func() {
		perfBase = map[string]fhirclient.Table{}
		for rt, data := range map[string][]byte{"Patient": perfSearchset(perfDistinctRows), "Observation": perfObservations(perfDistinctRows)} {
			bundle, err := fhirclient.DecodeBundle(data)
			if err != nil {
				perfErr = err
				return
			}
			perfBase[rt] = fhirclient.Rows(rt, bundle)
		}
	})
	if perfErr != nil {
		b.Fatal(perfErr)
	}
	key := fmt.Sprint(resourceType, n)
	if t, ok := perfTables.Load(key); ok {
		return t.(fhirclient.Table)
	}
	base := perfBase[resourceType]
	if len(base.Rows) != perfDistinctRows {
		b.Fatalf("%s: %d rows, want %d", resourceType, len(base.Rows), perfDistinctRows)
	}
	t := base
	t.Rows = make([][]string, n)
	t.Entries = make([]*fhirclient.Entry, n)
	for i := range n {
		t.Rows[i] = base.Rows[i%len(base.Rows)]
		t.Entries[i] = base.Entries[i%len(base.Entries)]
	}
	perfTables.Store(key, t)
	return t
}

// perfBrowser returns a browser whose results table fills a 1000×700 test
// window on its own, in the current test app.
func perfBrowser(b *testing.B) (*browser, fyne.Canvas) {
	b.Helper()
	w := test.NewTempWindow(b, widget.NewLabel(""))
	br := newBrowser(w, browserOptions{})
	b.Cleanup(br.close)
	w.SetContent(br.table)
	w.Resize(fyne.NewSize(1000, 700))
	return br, w.Canvas()
}

// perfFrame shows a Patient table of n rows scrolled to its middle row and
// returns a function that renders one frame of it: the table is refreshed
// (its visible cells updated from the rows) and the window painted by the
// test driver's software painter.
func perfFrame(b *testing.B, n int) func() {
	b.Helper()
	t := perfTable(b, "Patient", n)
	br, c := perfBrowser(b)
	br.locked(func() {
		br.setTableLocked(t)
		br.refreshWarningsLocked()
	})
	br.table.ScrollTo(widget.TableCellID{Row: n / 2, Col: 1})
	c.Capture() // the first frame creates the cells
	return func() {
		br.table.Refresh()
		c.Capture()
	}
}

var perfSizes = []int{1000, 100000}

// BenchmarkResultsFrame renders one frame of the results table at 1,000
// and at 100,000 rows.
func BenchmarkResultsFrame(b *testing.B) {
	for _, n := range perfSizes {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			test.NewTempApp(b)
			frame := perfFrame(b, n)
			for b.Loop() {
				frame()
			}
		})
	}
}

// BenchmarkResultsFrameScale renders frames of a 1,000-row and a
// 100,000-row table in turn, so that both see the same machine, and
// reports the time of each and their ratio (make bench's budget: at most
// 1.2).
func BenchmarkResultsFrameScale(b *testing.B) {
	test.NewTempApp(b)
	small, big := perfFrame(b, 1000), perfFrame(b, 100000)
	var tSmall, tBig time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		if n%2 == 0 {
			small()
			t1 := time.Now()
			big()
			tSmall, tBig = tSmall+t1.Sub(t0), tBig+time.Since(t1)
		} else {
			big()
			t1 := time.Now()
			small()
			tBig, tSmall = tBig+t1.Sub(t0), tSmall+time.Since(t1)
		}
		n++
	}
	perMs := func(d time.Duration) float64 { return float64(d) / float64(n) / float64(time.Millisecond) }
	b.ReportMetric(perMs(tSmall), "ms/frame-1k")
	b.ReportMetric(perMs(tBig), "ms/frame-100k")
	b.ReportMetric(float64(tBig)/float64(tSmall), "ratio")
}

// BenchmarkResultsShow puts n rows in the table and renders the first
// frame, as showing a search result does (column widths, warning count,
// refresh). It alternates a Patient and an Observation result, so that
// every show changes the columns, as a new search does.
func BenchmarkResultsShow(b *testing.B) {
	for _, n := range perfSizes {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			tables := []fhirclient.Table{perfTable(b, "Patient", n), perfTable(b, "Observation", n)}
			test.NewTempApp(b)
			br, c := perfBrowser(b)
			i := 0
			for b.Loop() {
				br.locked(func() {
					br.setTableLocked(tables[i%2])
					br.refreshWarningsLocked()
				})
				c.Capture()
				i++
			}
		})
	}
}
