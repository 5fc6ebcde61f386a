package ui

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

// resultsObservationFile writes the CCRI's three example Observations
// (two of which carry category and performer as objects, where STU3 wants
// arrays) into one searchset Bundle called observations.json.
func resultsObservationFile(t *testing.T) string {
	t.Helper()
	var entries []string
	for _, name := range []string{"Observation.json", "Observation-BodyMassIndex.json", "Observation-SmokingStatus.json"} {
		data, err := os.ReadFile(filepath.Join(ccriFixtures, name))
		if err != nil {
			t.Skipf("CCRI fixtures missing: %v", err)
		}
		entries = append(entries, string(data))
	}
	path := filepath.Join(t.TempDir(), "observations.json")
	if err := os.WriteFile(path, []byte(browserSearchset(3, nil, entries...)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestResultsWithWarnings opens the CCRI Observations offline: every row
// shows, and the two that break STU3 carry the marker.
func TestResultsWithWarnings(t *testing.T) {
	h := newBrowserHarness(t, nil)
	h.b.openFile(resultsObservationFile(t))
	h.waitShown()
	rows, _ := h.b.table.Length()
	if rows != 3 {
		t.Fatalf("rows = %d, want 3", rows)
	}
	code := slices.Index(h.b.data.Columns, "Code")
	var marked []string
	for i := range rows {
		if len(h.b.data.Warnings(i)) > 0 {
			marked = append(marked, h.b.data.Rows[i][code])
		}
	}
	if got, want := strings.Join(marked, "; "), "Observation of body mass index; Tobacco use and exposure"; got != want {
		t.Errorf("rows with warnings: %q, want %q", got, want)
	}
	if got := h.b.warnCount.Text; got != "2 rows with conformance warnings" {
		t.Errorf("warning count = %q", got)
	}
	if got := h.b.total.Text; got != "Observation: 3 in observations.json" {
		t.Errorf("total = %q", got)
	}
	browserGolden(t, h, "results_warnings.xml")
}

// TestResultsSort sorts by clicking a header: ascending, then descending,
// empty cells last.
func TestResultsSort(t *testing.T) {
	h := newBrowserHarness(t, nil)
	c, caps := browserPatientStub().client(t)
	h.b.setSource(c, caps)
	h.b.openType("Patient")
	h.waitShown()
	name := slices.Index(h.b.data.Columns, "Name")
	tests := []struct {
		col  string
		want []string // the names, in order
	}{
		{"Name", []string{"JONES, Bob", "KHAN, Sara", "SMITH, Anna"}},
		{"Name", []string{"SMITH, Anna", "KHAN, Sara", "JONES, Bob"}},
		{"Birth date", []string{"JONES, Bob", "SMITH, Anna", "KHAN, Sara"}}, // 1992-13-40 is not a date, but sorts as text
	}
	for i, tt := range tests {
		col := slices.Index(h.b.data.Columns, tt.col)
		header := h.headerButton(col)
		test.Tap(header)
		h.waitShown()
		var got []string
		for _, r := range h.b.data.Rows {
			got = append(got, r[name])
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("step %d, sort by %s: %v, want %v", i, tt.col, got, tt.want)
		}
		for j, e := range h.b.data.Entries {
			if !strings.Contains(strings.ToUpper(string(e.Resource)), strings.SplitN(got[j], ",", 2)[0]) {
				t.Errorf("step %d: row %d's entry %s does not go with its cells", i, j, e.Reference())
			}
		}
	}
}

// TestResultsCheckConformance checks a result too big to check at once
// when the user asks.
func TestResultsCheckConformance(t *testing.T) {
	h := newBrowserHarness(t, nil)
	h.b.validateMax = 2
	c, caps := browserPatientStub().client(t)
	h.b.setSource(c, caps)
	h.b.openType("Patient")
	h.waitShown()
	if h.b.warnCount.Text != "" || !h.b.check.Visible() || h.b.check.Disabled() {
		t.Fatalf("before the check: warnings %q, Check conformance visible %v", h.b.warnCount.Text, h.b.check.Visible())
	}
	test.Tap(h.b.check)
	h.waitShown()
	if got := h.b.warnCount.Text; got != "1 row with conformance warnings" {
		t.Errorf("warning count = %q", got)
	}
	if h.b.check.Visible() {
		t.Error("Check conformance is still offered after the check")
	}
}

// headerButton returns the button heading a data column, as drawn.
func (h *browserHarness) headerButton(col int) *widget.Button {
	h.t.Helper()
	btn := h.b.headerCreate().(*widget.Button)
	h.b.headerUpdate(widget.TableCellID{Row: -1, Col: col + 1}, btn)
	if btn.OnTapped == nil {
		h.t.Fatalf("column %d's header does not sort", col)
	}
	return btn
}

// resultsBigStub serves a search of pages×size patients, one page at a
// time: the first page at once, each later page only when the test sends
// on gate (or the request is cancelled). requested is told the number of
// each page asked for.
func resultsBigStub(pages, size int, gate chan struct{}, requested chan int) *browserStub {
	s := newBrowserStub()
	total := pages * size
	body := make([]string, pages+1)
	for p := 1; p <= pages; p++ {
		var entries []string
		for i := range size {
			n := (p-1)*size + i
			entries = append(entries, browserPatient(strconv.Itoa(n), fmt.Sprintf("999%07d", n),
				fmt.Sprintf("Family%05d", (n*7919)%total), "Given", "female", "1970-01-01", "LS1 1AA"))
		}
		links := map[string]string{"self": fmt.Sprintf("%s/Patient?_page=%d", browserStubBase, p)}
		if p < pages {
			links["next"] = fmt.Sprintf("%s/Patient?_page=%d", browserStubBase, p+1)
		}
		body[p] = browserSearchset(total, links, entries...)
	}
	s.handle("/STU3/Patient", func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("_page"))
		if p < 1 || p > pages {
			p = 1
		}
		if p > 1 {
			requested <- p
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(body[p]))
	})
	return s
}

// TestResultsTenThousandRowsResponsive fetches 10,000 rows in 20 pages
// while the user works the window. The server holds every page until the
// test lets it go, so between pages the fetch is provably waiting on the
// network: each user action below must complete then (a hang, not a slow
// answer, would fail the test). Rows arrive page by page, the table only
// ever draws the visible cells, and sorting 10,000 rows happens off the
// Fyne goroutine.
func TestResultsTenThousandRowsResponsive(t *testing.T) {
	const pages, size = 20, 500
	gate, requested := make(chan struct{}), make(chan int, pages)
	h := newBrowserHarness(t, nil)
	c, caps := resultsBigStub(pages, size, gate, requested).client(t)
	h.b.setSource(c, caps)
	h.b.openType("Patient")
	h.waitShown()

	test.Tap(h.b.fetchAll)
	if got := browserWait(h, h.pages, "the first page's rows"); got != size {
		t.Fatalf("the first page added %d rows", got)
	}
	family := h.b.form.field("family").entry
	for p := 2; p <= pages; p++ {
		if got := browserWait(h, requested, "the next page being requested"); got != p {
			t.Fatalf("page %d requested, want %d", got, p)
		}
		// The fetch is waiting on the server: the window answers.
		if rows, _ := h.b.table.Length(); rows != (p-1)*size {
			t.Fatalf("before page %d the table has %d rows, want %d", p, rows, (p-1)*size)
		}
		if got := int(h.b.progress.Value); got != (p-1)*size {
			t.Errorf("progress = %d, want %d", got, (p-1)*size)
		}
		if h.b.cancelFetch.Disabled() || !h.b.next.Disabled() || !h.b.export.Disabled() {
			t.Error("while fetching, Cancel should be the way out and paging and export should wait")
		}
		h.b.table.ScrollToBottom()
		h.typeInto(family, "x")
		if p%5 == 0 {
			h.b.table.Select(widget.TableCellID{Row: (p - 1) * size / 2, Col: 1})
			h.waitDetails()
			if h.b.details.view == nil || h.b.details.view.entry.ResourceType != "Patient" {
				t.Fatalf("details during the fetch show %v", h.b.details.view)
			}
		}
		gate <- struct{}{}
		if got := browserWait(h, h.pages, "page rows"); got != size {
			t.Fatalf("page %d added %d rows", p, got)
		}
	}
	h.waitShown()
	if rows, _ := h.b.table.Length(); rows != pages*size {
		t.Fatalf("rows = %d, want %d", rows, pages*size)
	}
	if got := h.b.total.Text; got != "Patient: all 10,000 of 10,000 fetched" {
		t.Errorf("total = %q", got)
	}
	if got := h.b.status.Text; got != "Fetched every page: 20 pages." {
		t.Errorf("status = %q", got)
	}
	if h.b.check.Hidden || h.b.check.Disabled() {
		t.Error("a result too big to check at once does not offer Check conformance")
	}

	// Drawing the table touches the visible cells only.
	updates := 0
	update := h.b.table.UpdateCell
	h.b.table.UpdateCell = func(id widget.TableCellID, o fyne.CanvasObject) { updates++; update(id, o) }
	h.b.table.ScrollToTop()
	h.b.table.Refresh()
	if rows, cols := h.b.table.Length(); updates == 0 || updates > 60*cols {
		t.Errorf("one refresh of %d rows updated %d cells", rows, updates)
	}
	h.b.table.UpdateCell = update

	// Sorting 10,000 rows runs on a goroutine of its own: held at its
	// start, it leaves the window working.
	hold := make(chan struct{})
	h.b.beforeSort = func() { <-hold }
	name := slices.Index(h.b.data.Columns, "Name")
	test.Tap(h.headerButton(name))
	if got := h.b.status.Text; got != "Sorting 10,000 rows by Name…" {
		t.Errorf("status while sorting = %q", got)
	}
	h.b.table.Select(widget.TableCellID{Row: 3, Col: 2})
	h.waitDetails()
	close(hold)
	h.waitShown()
	for i := 1; i < len(h.b.data.Rows); i++ {
		if a, b := h.b.data.Rows[i-1][name], h.b.data.Rows[i][name]; strings.ToLower(a) > strings.ToLower(b) {
			t.Fatalf("rows %d and %d out of order: %q > %q", i-1, i, a, b)
		}
	}
	if h.b.details.view != nil {
		t.Error("the details of a row stay shown after the rows moved")
	}
}

// TestResultsCancelFetchAll cancels a fetch while the server holds a page:
// the rows so far stay and the fetch can start again.
func TestResultsCancelFetchAll(t *testing.T) {
	const pages, size = 5, 40
	gate, requested := make(chan struct{}), make(chan int, pages)
	h := newBrowserHarness(t, nil)
	c, caps := resultsBigStub(pages, size, gate, requested).client(t)
	h.b.setSource(c, caps)
	h.b.openType("Patient")
	h.waitShown()
	test.Tap(h.b.fetchAll)
	browserWait(h, h.pages, "the first page's rows")
	browserWait(h, requested, "page 2 being requested")
	gate <- struct{}{}
	browserWait(h, h.pages, "page 2's rows")
	browserWait(h, requested, "page 3 being requested")
	test.Tap(h.b.cancelFetch)
	h.waitShown()
	if rows, _ := h.b.table.Length(); rows != 2*size {
		t.Errorf("rows = %d, want the %d fetched before Cancel", rows, 2*size)
	}
	if got := h.b.status.Text; got != "Cancelled after 80 rows; the rows fetched so far are shown. “Fetch all” resumes from there." {
		t.Errorf("status = %q", got)
	}
	if h.b.fetchAll.Disabled() || h.b.fetchRow.Visible() {
		t.Error("after Cancel the fetch cannot start again, or the progress bar stays")
	}

	// Fetch all again resumes at page 3, the one that never arrived: the
	// 80 rows stay and pages 1 and 2 are not asked for again.
	test.Tap(h.b.fetchAll)
	browserWait(h, h.pages, "the rows already fetched, shown again")
	for want := 3; want <= pages; want++ {
		if got := browserWait(h, requested, "the next page being requested"); got != want {
			t.Fatalf("resumed fetch asked for page %d, want %d", got, want)
		}
		gate <- struct{}{}
		browserWait(h, h.pages, "page rows")
	}
	h.waitShown()
	if rows, _ := h.b.table.Length(); rows != pages*size {
		t.Errorf("rows after resuming = %d, want %d", rows, pages*size)
	}
}

// TestResultsFetchLimit stops fetching at the limit chosen.
func TestResultsFetchLimit(t *testing.T) {
	const pages, size = 30, 40
	gate, requested := make(chan struct{}), make(chan int, pages)
	h := newBrowserHarness(t, nil)
	c, caps := resultsBigStub(pages, size, gate, requested).client(t)
	h.b.setSource(c, caps)
	h.b.openType("Patient")
	h.waitShown()
	menu := h.b.fetchLimitMenu()
	if len(menu.Items) != 3 || !menu.Items[1].Checked {
		t.Fatalf("limits %v, want 10,000 ticked", menu.Items)
	}
	menu.Items[0].Action()
	if got := h.b.fetchAll.Text; got != "Fetch all (up to 1,000)" {
		t.Errorf("button = %q", got)
	}
	test.Tap(h.b.fetchAll)
	browserWait(h, h.pages, "the first page's rows")
	for range 1000/size - 1 {
		browserWait(h, requested, "the next page being requested")
		gate <- struct{}{}
		browserWait(h, h.pages, "page rows")
	}
	h.waitShown()
	if rows, _ := h.b.table.Length(); rows != 1000 {
		t.Errorf("rows = %d, want 1,000", rows)
	}
	if got := h.b.status.Text; got != "Stopped at the limit of 1,000 matches." {
		t.Errorf("status = %q", got)
	}
	if got := h.b.total.Text; got != "Patient: the first 1,000 of 1,200 (the limit)" {
		t.Errorf("total = %q", got)
	}
}

// TestResultsHundredThousandRows shows 100,000 rows: drawing touches the
// visible cells only, whichever part is scrolled to, and sorting runs on a
// goroutine.
func TestResultsHundredThousandRows(t *testing.T) {
	const n = 100_000
	h := newBrowserHarness(t, nil)
	tbl := fhirclient.Table{ResourceType: "Patient", Columns: []string{"NHS number", "Name"},
		Kinds: []fhirclient.ColumnKind{fhirclient.KindText, fhirclient.KindText}}
	for i := range n {
		tbl.Rows = append(tbl.Rows, []string{fmt.Sprintf("999%07d", i), fmt.Sprintf("NAME%06d", (i*7919)%n)})
		tbl.Entries = append(tbl.Entries, &fhirclient.Entry{ResourceType: "Patient", ID: strconv.Itoa(i)})
	}
	h.b.locked(func() {
		h.b.showResultLocked(resultSet{bundle: &fhirclient.Bundle{Entries: make([]fhirclient.Entry, n)}, file: "big.json"}, tbl)
	})
	updates := 0
	update := h.b.table.UpdateCell
	h.b.table.UpdateCell = func(id widget.TableCellID, o fyne.CanvasObject) { updates++; update(id, o) }
	for _, scroll := range []func(){h.b.table.ScrollToTop, h.b.table.ScrollToBottom} {
		updates = 0
		scroll()
		h.b.table.Refresh()
		if updates == 0 || updates > 60*3 {
			t.Errorf("a refresh of %d rows updated %d cells", n, updates)
		}
	}
	h.b.table.UpdateCell = update

	test.Tap(h.headerButton(1))
	h.waitShown()
	if got := h.b.data.Rows[0][1]; got != "NAME000000" {
		t.Errorf("first after sorting = %q", got)
	}
	if got := h.b.data.Rows[n-1][1]; got != fmt.Sprintf("NAME%06d", n-1) {
		t.Errorf("last after sorting = %q", got)
	}
}

// TestResultsIncludedTypes switches between the matches and the resources
// _include brought along.
func TestResultsIncludedTypes(t *testing.T) {
	h := newBrowserHarness(t, nil)
	s := browserPatientStub()
	org := `{"resourceType":"Organization","id":"B82001","name":"Leeds Practice"}`
	s.json("/STU3/Patient", http.StatusOK, browserSearchset(3, nil, append(slices.Clone(browserPatients), org)...))
	c, caps := s.client(t)
	h.b.setSource(c, caps)
	h.b.openType("Patient")
	h.waitShown()
	if !h.b.typeSelect.Visible() || !slices.Equal(h.b.typeSelect.Options, []string{"Patient", "Organization"}) {
		t.Fatalf("type choice %v (visible %v)", h.b.typeSelect.Options, h.b.typeSelect.Visible())
	}
	if got := h.b.total.Text; got != "Patient: 1–3 of 3 (page 1) · 1 included" {
		t.Errorf("total = %q", got)
	}
	h.b.typeSelect.SetSelected("Organization")
	h.waitShown()
	if rows, _ := h.b.table.Length(); rows != 1 || h.b.data.ResourceType != "Organization" {
		t.Fatalf("after choosing Organization: %d %s rows", rows, h.b.data.ResourceType)
	}
	if got := h.b.total.Text; got != "Organization: 1 included with the Patient search" {
		t.Errorf("total = %q", got)
	}

	// A Patient's practice, included in the result, opens without a read.
	h.b.typeSelect.SetSelected("Patient")
	h.waitShown()
	h.b.table.Select(widget.TableCellID{Row: 0, Col: 1})
	h.waitDetails()
	var practice *widget.Button
	for _, btn := range h.b.details.refButtons {
		if strings.Contains(btn.Text, "Organization/B82001") {
			practice = btn
		}
	}
	if practice == nil {
		t.Fatal("no link to the GP practice")
	}
	test.Tap(practice)
	h.waitDetails()
	if got := h.b.details.view.entry.Reference(); got != "Organization/B82001" {
		t.Errorf("the link opened %s", got)
	}
	select {
	case a := <-h.answers:
		if a.resourceType != "Patient" {
			t.Errorf("following an included reference asked the server: %+v", a)
		}
	default:
	}
}
