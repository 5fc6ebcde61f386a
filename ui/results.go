package ui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

// resultsSortSyncMax is the largest table sorted on the Fyne goroutine;
// bigger ones are sorted on a goroutine of their own.
const resultsSortSyncMax = 2000

// resultsMarkerWidth is the width of the first column, which marks rows
// with conformance warnings.
const resultsMarkerWidth = 36

// The table's first column is the warning marker; data column i is table
// column i+1. The callbacks below only index b.data: no widget per row, no
// parsing, whatever the number of rows.

// tableLength returns the table's rows and columns.
func (b *browser) tableLength() (int, int) {
	if len(b.data.Columns) == 0 {
		return 0, 0
	}
	return len(b.data.Rows), len(b.data.Columns) + 1
}

// tableCreate makes a cell: a label, and the warning marker.
func (b *browser) tableCreate() fyne.CanvasObject {
	l := widget.NewLabel("")
	l.Truncation = fyne.TextTruncateEllipsis
	icon := widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon()))
	icon.Hide()
	return container.NewStack(l, container.NewCenter(icon))
}

// tableUpdate shows a row's cell, or its marker in the first column.
func (b *browser) tableUpdate(id widget.TableCellID, o fyne.CanvasObject) {
	c := o.(*fyne.Container)
	l := c.Objects[0].(*widget.Label)
	icon := c.Objects[1].(*fyne.Container).Objects[0]
	if id.Row < 0 || id.Row >= len(b.data.Rows) {
		l.SetText("")
		icon.Hide()
		return
	}
	if id.Col == 0 {
		l.SetText("")
		if len(b.data.Warnings(id.Row)) > 0 {
			icon.Show()
		} else {
			icon.Hide()
		}
		return
	}
	icon.Hide()
	row := b.data.Rows[id.Row]
	if id.Col-1 < len(row) {
		l.SetText(row[id.Col-1])
		return
	}
	l.SetText("")
}

// headerCreate makes a column header: a button that sorts.
func (b *browser) headerCreate() fyne.CanvasObject {
	btn := widget.NewButton("", nil)
	btn.Alignment = widget.ButtonAlignLeading
	btn.IconPlacement = widget.ButtonIconTrailingText
	btn.Importance = widget.LowImportance
	return btn
}

// headerUpdate shows a column's title and sort order.
func (b *browser) headerUpdate(id widget.TableCellID, o fyne.CanvasObject) {
	btn := o.(*widget.Button)
	col := id.Col - 1
	if id.Row >= 0 || col < 0 || col >= len(b.data.Columns) {
		btn.OnTapped = nil
		btn.SetIcon(nil)
		btn.SetText("")
		return
	}
	btn.OnTapped = func() { b.onSort(col) }
	var icon fyne.Resource
	if b.sortCol == col {
		icon = theme.MenuDropUpIcon()
		if b.sortDesc {
			icon = theme.MenuDropDownIcon()
		}
	}
	btn.Icon = icon
	btn.SetText(b.data.Columns[col])
}

// onSort sorts by a data column: ascending first, then descending.
func (b *browser) onSort(col int) {
	var after func()
	b.locked(func() { after = b.sortLocked(col) })
	if after != nil {
		after()
	}
}

// sortLocked sorts the rows on screen; it returns what to call once mu is
// released.
func (b *browser) sortLocked(col int) func() {
	if b.busy || b.fetching {
		b.setStatusLocked("Sorting is possible once the rows have arrived.", "")
		return nil
	}
	if col < 0 || col >= len(b.data.Columns) {
		return nil
	}
	desc := b.sortCol == col && !b.sortDesc
	b.sortCol, b.sortDesc = col, desc
	b.viewGen++
	view := b.viewGen
	t := b.data // Sort replaces t's slices and never writes to b.data's
	if len(t.Rows) <= resultsSortSyncMax {
		t.Sort(col, desc)
		b.setRowsLocked(t)
		return b.shown
	}
	b.busy = true
	b.setStatusLocked(fmt.Sprintf("Sorting %s rows by %s…", browserCount(len(t.Rows)), t.Columns[col]), "")
	b.updateButtonsLocked()
	b.table.Refresh() // the header shows the new order at once
	go func() {
		if b.beforeSort != nil {
			b.beforeSort()
		}
		t.Sort(col, desc)
		b.doView(view, func() {
			b.busy = false
			b.setRowsLocked(t)
			b.setStatusLocked("", "")
			b.updateButtonsLocked()
		}, b.shown)
	}()
	return nil
}

// setRowsLocked shows t's rows in the columns already on screen.
func (b *browser) setRowsLocked(t fhirclient.Table) {
	b.data = t
	b.table.UnselectAll()
	b.clearDetailsLocked()
	b.table.Refresh()
}

// switchTypeLocked shows the rows of another resource type in the result
// (one brought in by _include, say).
func (b *browser) switchTypeLocked(rt string) {
	bundle := b.res.bundle
	if bundle == nil || rt == "" || rt == b.data.ResourceType {
		return
	}
	if b.busy || b.fetching {
		b.typeSelect.Selected = b.data.ResourceType
		b.typeSelect.Refresh()
		return
	}
	snap := *bundle
	snap.Entries = bundle.Entries[:len(bundle.Entries):len(bundle.Entries)]
	b.viewGen++
	view := b.viewGen
	show := func(t fhirclient.Table) {
		b.sortCol = -1
		b.setTableLocked(t)
		b.total.SetText(b.totalText())
		b.refreshWarningsLocked()
		b.updateButtonsLocked()
	}
	if len(snap.Entries) <= resultsSortSyncMax {
		show(fhirclient.Rows(rt, &snap))
		go b.doView(view, func() {}, b.shown) // reported like the big ones, once the callback has returned
		return
	}
	b.busy = true
	b.updateButtonsLocked()
	go func() {
		t := fhirclient.Rows(rt, &snap)
		b.doView(view, func() {
			b.busy = false
			show(t)
		}, b.shown)
	}()
}

// showResultLocked puts a result on screen.
func (b *browser) showResultLocked(r resultSet, t fhirclient.Table) {
	b.res = r
	b.setTableLocked(t)
	types := browserTypes(r.bundle)
	if len(types) > 1 {
		b.typeSelect.Options = types
		b.typeSelect.Selected = t.ResourceType
		b.typeSelect.Show()
		b.typeSelect.Refresh()
	} else {
		b.typeSelect.Hide()
	}
	b.showBundleWarningsLocked(r.bundle)
	b.total.SetText(b.totalText())
	switch {
	case len(t.Rows) > 0:
		b.setStatusLocked("", "")
	case r.file != "":
		b.setStatusLocked(r.file+" holds no resources to list.", "")
	default:
		b.setStatusLocked("No "+t.ResourceType+" matched the search.", "")
	}
	b.refreshWarningsLocked()
	b.updateButtonsLocked()
}

// setTableLocked replaces the table's rows and columns.
func (b *browser) setTableLocked(t fhirclient.Table) {
	// Widths are set while the table is empty: each SetColumnWidth refreshes
	// the table, and with rows in place that re-shapes every visible cell
	// once per column (40 MB of garbage at start-up, twice the time to show
	// a result; see docs/PERFORMANCE.md). Then the rows, and one refresh.
	b.data = fhirclient.Table{}
	b.table.UnselectAll()
	b.table.SetColumnWidth(0, resultsMarkerWidth)
	for i, title := range t.Columns {
		b.table.SetColumnWidth(i+1, resultsColumnWidth(title, t.Rows, i))
	}
	b.table.ScrollToTop()
	b.data = t
	b.table.ShowHeaderRow = len(t.Columns) > 0 // no empty header band
	b.table.Refresh()
}

// resultsColumnWidth sizes a column to its title and the first rows.
func resultsColumnWidth(title string, rows [][]string, col int) float32 {
	size, pad := theme.TextSize(), 2*theme.InnerPadding()+theme.Padding()
	w := fyne.MeasureText(title, size, fyne.TextStyle{Bold: true}).Width + pad + theme.IconInlineSize() + theme.Padding()
	for i := 0; i < len(rows) && i < 50; i++ {
		if col < len(rows[i]) {
			w = max(w, fyne.MeasureText(rows[i][col], size, fyne.TextStyle{}).Width+pad)
		}
	}
	return min(max(w, 60), 320)
}

// clearResultsLocked empties the table.
func (b *browser) clearResultsLocked() {
	b.res = resultSet{}
	b.data = fhirclient.Table{}
	b.sortCol = -1
	b.table.UnselectAll()
	b.table.ShowHeaderRow = false
	b.table.Refresh()
	b.typeSelect.Hide()
	b.outcome.Hide()
	b.total.SetText("")
	b.warnCount.SetText("")
	b.updateButtonsLocked()
}

// refreshWarningsLocked counts the rows with warnings and redraws the
// markers.
func (b *browser) refreshWarningsLocked() {
	n := 0
	for i := range b.data.Entries {
		if len(b.data.Warnings(i)) > 0 {
			n++
		}
	}
	switch n {
	case 0:
		b.warnCount.SetText("")
	case 1:
		b.warnCount.SetText("1 row with conformance warnings")
	default:
		b.warnCount.SetText(browserCount(n) + " rows with conformance warnings")
	}
	b.table.Refresh()
}

// showBundleWarningsLocked shows the server's OperationOutcome messages
// and problems with the Bundle itself above the table, in words.
func (b *browser) showBundleWarningsLocked(bundle *fhirclient.Bundle) {
	if bundle == nil || len(bundle.Warnings) == 0 {
		b.outcome.Hide()
		return
	}
	var lines []string
	seen := map[string]bool{}
	for _, w := range bundle.Warnings {
		var line string
		switch w.Source {
		case fhirclient.SourceServer:
			line = "The server says"
			if w.Severity != "" {
				line += " (" + w.Severity + ")"
			}
			line += ": " + w.Message
		default:
			line = "Problem in the Bundle: " + w.String()
		}
		if !seen[line] {
			seen[line] = true
			lines = append(lines, line)
		}
	}
	b.outcome.SetText(strings.Join(lines, "\n"))
	b.outcome.Show()
}

// updateButtonsLocked enables what can be done now.
func (b *browser) updateButtonsLocked() {
	idle := !b.busy && !b.fetching
	live := b.client != nil && b.res.file == "" && b.res.first != nil
	page := b.res.page
	setEnabled(b.prev, live && idle && !b.res.all && page != nil && page.Link("previous") != "")
	setEnabled(b.next, live && idle && !b.res.all && page != nil && page.Link("next") != "")
	canFetch := live && idle && !b.res.all && b.res.first.Link("next") != ""
	setEnabled(b.fetchAll, canFetch)
	setEnabled(b.fetchLimit, canFetch)
	b.fetchAll.SetText(fmt.Sprintf("Fetch all (up to %s)", browserCount(b.fetchMax)))
	setEnabled(b.cancelFetch, b.fetching)
	bundle := b.res.bundle
	hasEntries := bundle != nil && len(bundle.Entries) > 0
	setEnabled(b.export, idle && hasEntries)
	if hasEntries && !b.res.checked && len(bundle.Entries) > b.validateMax && !b.fetching {
		b.check.Show()
		setEnabled(b.check, idle)
	} else {
		b.check.Hide()
	}
}

// setEnabled enables or disables w.
func setEnabled(w fyne.Disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}

// totalText says what the table holds.
func (b *browser) totalText() string {
	r := b.res
	if r.bundle == nil {
		return ""
	}
	rt, n := b.data.ResourceType, len(b.data.Rows)
	of := ""
	if r.bundle.Total != nil {
		of = " of " + browserCount(*r.bundle.Total)
	}
	var s string
	switch {
	case r.file != "":
		s = fmt.Sprintf("%s: %s in %s", rt, browserCount(n), r.file)
	case rt != r.searchType:
		s = fmt.Sprintf("%s: %s included with the %s search", rt, browserCount(n), r.searchType)
	case b.fetching:
		s = fmt.Sprintf("%s: %s%s fetched so far", rt, browserCount(n), of)
	case r.limited:
		s = fmt.Sprintf("%s: the first %s%s (the limit)", rt, browserCount(n), of)
	case r.all:
		s = fmt.Sprintf("%s: all %s%s fetched", rt, browserCount(n), of)
	case n == 0:
		s = fmt.Sprintf("%s: no matches%s", rt, of)
	default:
		s = fmt.Sprintf("%s: %s–%s%s (page %d)", rt, browserCount(r.offset+1), browserCount(r.offset+n), of, r.pageNo)
		if of == "" {
			s += "; the server gave no total"
		}
	}
	if b.fetching || rt != r.searchType || r.file != "" {
		return s // no counting through a growing result on every page
	}
	if inc := len(r.bundle.Entries) - n - browserOutcomes(r.bundle); inc > 0 {
		s += fmt.Sprintf(" · %s included", browserCount(inc))
	}
	return s
}

// browserOutcomes counts a bundle's OperationOutcome entries.
func browserOutcomes(b *fhirclient.Bundle) int {
	n := 0
	for _, e := range b.Entries {
		if e.ResourceType == "OperationOutcome" {
			n++
		}
	}
	return n
}

// browserCount formats a count with thousands separators: 10,000.
func browserCount(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
