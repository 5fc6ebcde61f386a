package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

// browserFetchMax is how many matches "Fetch all" fetches at most unless
// the user picks another limit.
const browserFetchMax = 10000

// browserValidateMax is the largest result whose entries are checked for
// conformance (typed parsing) in the background as soon as it is shown;
// larger ones are checked when the user asks.
const browserValidateMax = 2000

// browserOptions connect the browser to the rest of the window.
type browserOptions struct {
	// OnServerAnswer is called (on the Fyne goroutine) after each
	// search/read of resourceType: status 200 or the HTTP error status.
	// err is the *fhirclient.HTTPError behind an error status, with the
	// server's OperationOutcome text (a 403 means the server denies the
	// type whatever the scopes say).
	OnServerAnswer func(resourceType string, status int, err error)
	// Logf receives one line per milestone; never a token.
	Logf func(format string, args ...any)
	// Token returns the current access token, only used for "Copy as curl"
	// when the user ticks "include token".
	Token func() string
}

// resultSet is what the results table shows rows of.
type resultSet struct {
	searchType string             // the type searched; "" for a file
	bundle     *fhirclient.Bundle // every entry held: the page, all pages fetched, or the file
	first      *fhirclient.Bundle // the search's first page
	page       *fhirclient.Bundle // the page whose links page on; nil for a file
	pageNo     int                // 1 for the first page
	offset     int                // matches on the pages before this one
	file       string             // the file's name when browsing offline
	all        bool               // every page has been fetched (up to the limit)
	limited    bool               // the fetch stopped at the limit
	checked    bool               // every entry has been checked for conformance
}

// browser is the centre pane: search form, query URL, results table with
// paging, fetch-all and export, and the selected resource's details.
//
// Widget callbacks and the functions worker goroutines hand to the Fyne
// goroutine (through runOnUI) both take mu. In the app they all run on the
// Fyne goroutine, so mu is never contended; under the test driver, where
// fyne.Do runs on the worker, mu keeps the two apart. Code that holds mu
// never blocks and never calls out (OnServerAnswer, test hooks) until it
// has released it. Locks are taken in one order: uiMu, then mu.
type browser struct {
	win  fyne.Window
	opts browserOptions

	// Test hooks, called on the Fyne goroutine after mu is released
	// (except onStale and beforeSort, called on the worker).
	onShown    func()                       // a search, page, fetch-all, sort or file has its outcome on screen, conformance check included
	onPage     func(rows int)               // a fetch-all page has been added to the table
	onDetails  func()                       // the selected resource's details (and attachment) are on screen
	onExported func(path string, err error) // an export or attachment save has finished
	onStale    func()                       // a superseded worker's update was dropped
	beforeSort func()                       // a big table's sort is about to start on its goroutine

	mu     sync.Mutex
	closed bool
	client *fhirclient.Client
	caps   *fhirclient.Capabilities

	gen      uint64             // the result's generation: bumped by every search, page, fetch and file
	viewGen  uint64             // bumped by sorts and type switches as well
	cancel   context.CancelFunc // cancels the result's work in flight
	busy     bool               // a search, page or file is loading
	fetching bool               // fetch-all is running

	resourceType string // the type of the form ("" when none)
	explained    bool   // the form is replaced by an explanation
	form         *searchForm
	settingURL   bool // the query URL is being set by the form, not typed (Fyne goroutine only)
	urlEdited    bool // the user has typed in the query URL (Fyne goroutine only)
	fetchMax     int
	validateMax  int // the largest result checked for conformance at once

	res      resultSet
	data     fhirclient.Table // the rows on screen
	sortCol  int              // the data column sorted by, -1 for none
	sortDesc bool

	detailGen    uint64
	detailCancel context.CancelFunc

	content     fyne.CanvasObject
	title       *widget.Label
	formBox     *fyne.Container
	top         *fyne.Container // title, form area and query row
	queryURL    *widget.Entry
	search      *widget.Button
	copyCurl    *widget.Button
	curlToken   *widget.Check
	total       *widget.Label
	typeSelect  *widget.Select
	warnCount   *widget.Label
	check       *widget.Button
	prev        *widget.Button
	next        *widget.Button
	fetchAll    *widget.Button
	fetchLimit  *widget.Button // chooses the most "Fetch all" fetches
	progress    *widget.ProgressBar
	cancelFetch *widget.Button
	fetchRow    *fyne.Container
	export      *widget.Button
	openFileBtn *widget.Button
	outcome     *widget.Label
	table       *widget.Table
	status      *widget.Label
	serverText  *widget.Label
	details     *detailsPane
}

// newBrowser builds the centre pane for win.
func newBrowser(win fyne.Window, opts browserOptions) *browser {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	b := &browser{win: win, opts: opts, sortCol: -1, fetchMax: browserFetchMax, validateMax: browserValidateMax}
	b.buildUI()
	b.showEmptyLocked()
	return b
}

// object returns the whole centre pane.
func (b *browser) object() fyne.CanvasObject { return b.content }

func (b *browser) buildUI() {
	b.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	b.formBox = container.NewStack()

	b.queryURL = widget.NewEntry()
	b.queryURL.SetPlaceHolder("The search URL; edit it and press Search to run it as it is")
	b.queryURL.OnChanged = func(string) {
		if !b.settingURL {
			b.urlEdited = true
		}
	}
	b.queryURL.OnSubmitted = func(string) { b.locked(b.runQueryLocked) }
	b.search = widget.NewButtonWithIcon("Search", theme.SearchIcon(), func() { b.locked(b.runQueryLocked) })
	b.search.Importance = widget.HighImportance
	b.copyCurl = widget.NewButtonWithIcon("Copy as curl", theme.ContentCopyIcon(), b.onCopyCurl)
	b.curlToken = widget.NewCheck("include token", nil)
	queryRow := container.NewBorder(nil, nil, widget.NewLabel("Query"),
		container.NewHBox(b.search, b.copyCurl, b.curlToken), b.queryURL)

	b.total = widget.NewLabel("")
	b.total.Truncation = fyne.TextTruncateEllipsis
	b.typeSelect = widget.NewSelect(nil, func(t string) { b.locked(func() { b.switchTypeLocked(t) }) })
	b.typeSelect.Hide()
	b.warnCount = widget.NewLabel("")
	b.warnCount.Importance = widget.WarningImportance
	b.check = widget.NewButtonWithIcon("Check conformance", theme.WarningIcon(), func() { b.locked(b.checkLocked) })
	b.prev = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { b.locked(func() { b.pageLocked("previous") }) })
	b.next = widget.NewButtonWithIcon("", theme.NavigateNextIcon(), func() { b.locked(func() { b.pageLocked("next") }) })
	b.fetchAll = widget.NewButtonWithIcon("", theme.DownloadIcon(), func() { b.locked(b.fetchAllLocked) })
	b.fetchLimit = widget.NewButtonWithIcon("", theme.MenuDropDownIcon(), b.onFetchLimit)
	b.progress = widget.NewProgressBar()
	b.progress.TextFormatter = func() string {
		return fmt.Sprintf("%s of %s", browserCount(int(b.progress.Value)), browserCount(int(b.progress.Max)))
	}
	b.cancelFetch = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { b.locked(b.cancelFetchLocked) })
	b.fetchRow = container.NewBorder(nil, nil, nil, b.cancelFetch, b.progress)
	b.fetchRow.Hide()
	b.export = widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), b.onExport)
	b.openFileBtn = widget.NewButtonWithIcon("Open file…", theme.FolderOpenIcon(), b.onOpenFile)
	b.outcome = widget.NewLabel("")
	b.outcome.Wrapping = fyne.TextWrapWord
	b.outcome.Importance = widget.WarningImportance
	b.outcome.Hide()

	b.table = widget.NewTableWithHeaders(b.tableLength, b.tableCreate, b.tableUpdate)
	b.table.ShowHeaderColumn = false
	b.table.CreateHeader = b.headerCreate
	b.table.UpdateHeader = b.headerUpdate
	b.table.OnSelected = func(id widget.TableCellID) { b.locked(func() { b.rowSelectedLocked(id.Row) }) }

	b.status = widget.NewLabel("")
	b.status.Wrapping = fyne.TextWrapWord
	b.serverText = widget.NewLabel("")
	b.serverText.Wrapping = fyne.TextWrapWord
	b.serverText.Hide()

	b.details = newDetailsPane(b)

	header := container.NewBorder(nil, nil, b.typeSelect, b.warnCount, b.total)
	// The buttons scroll rather than widen the pane when it is narrow.
	buttons := container.NewHScroll(container.NewHBox(b.prev, b.next, b.fetchAll, b.fetchLimit, b.check, layout.NewSpacer(), b.export, b.openFileBtn))
	results := container.NewBorder(
		container.NewVBox(header, buttons, b.fetchRow, b.status, b.serverText, b.outcome),
		nil, nil, nil, b.table)
	split := container.NewHSplit(results, b.details.content)
	split.Offset = 0.62
	b.top = container.NewVBox(b.title, b.formBox, queryRow, widget.NewSeparator())
	b.content = container.NewBorder(b.top, nil, nil, nil, split)
}

// relayout lays the pane out again after the form area's objects changed.
// It refreshes only the form area and then re-runs the pane's layout: a
// Refresh of the whole pane would also refresh every visible cell of the
// results table and every tab of the details pane, for nothing. Before the
// pane has been laid out for the first time (while the window is built) it
// does nothing: that first layout places everything.
func (b *browser) relayout() {
	c, ok := b.content.(*fyne.Container)
	if !ok || c.Size().IsZero() {
		return
	}
	b.formBox.Refresh()
	c.Layout.Layout(c.Objects, c.Size())
	b.top.Layout.Layout(b.top.Objects, b.top.Size())
}

// locked runs fn holding mu; widget callbacks go through it.
func (b *browser) locked(fn func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		fn()
	}
}

// doWhen runs fn on the Fyne goroutine holding mu, if current still says
// the work is wanted; then after (without mu). Workers call it. It goes
// through runOnUI, so that it is serialised with the rest of the window's
// goroutine work under the test driver as well.
func (b *browser) doWhen(current func() bool, fn func(), after func()) {
	runOnUI(func() {
		b.mu.Lock()
		ok := !b.closed && current()
		if ok {
			fn()
		}
		b.mu.Unlock()
		if !ok {
			if b.onStale != nil {
				b.onStale()
			}
			return
		}
		if after != nil {
			after()
		}
	})
}

// doResult is doWhen for work of result generation gen.
func (b *browser) doResult(gen uint64, fn func(), after func()) {
	b.doWhen(func() bool { return b.gen == gen }, fn, after)
}

// doView is doWhen for a sort or type switch of view generation view.
func (b *browser) doView(view uint64, fn func(), after func()) {
	b.doWhen(func() bool { return b.viewGen == view }, fn, after)
}

// startLocked cancels the result's work in flight and starts a new
// generation.
func (b *browser) startLocked() (uint64, context.Context) {
	if b.cancel != nil {
		b.cancel()
	}
	b.gen++
	b.viewGen++
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.busy, b.fetching = false, false
	b.fetchRow.Hide()
	return b.gen, ctx
}

// setSource switches to a live server (client non-nil, caps may be nil
// until loaded) or clears (nil). Cancels anything in flight. Called again
// with the same client once caps have loaded, it only rebuilds the form
// and leaves a running search alone.
func (b *browser) setSource(client *fhirclient.Client, caps *fhirclient.Capabilities) {
	b.locked(func() {
		if client != nil && client == b.client {
			b.caps = caps
			if b.resourceType != "" && !b.explained {
				b.rebuildFormLocked(nil)
			}
			return
		}
		b.startLocked()
		b.clearDetailsLocked()
		b.client, b.caps = client, caps
		b.resourceType, b.explained, b.form = "", false, nil
		b.showEmptyLocked()
	})
}

// openType shows the search form for resourceType and runs its default
// search (_count=50).
func (b *browser) openType(resourceType string) {
	b.locked(func() { b.openTypeLocked(resourceType, nil) })
}

// openTypeLocked shows the form of resourceType filled with params (nil
// for the default search) and runs it.
func (b *browser) openTypeLocked(resourceType string, params url.Values) {
	b.resourceType, b.explained = resourceType, false
	b.form = nil
	b.rebuildFormLocked(params)
	b.runQueryLocked()
}

// rebuildFormLocked builds the form of b.resourceType from the current
// capabilities, keeping what was typed (or filling in params).
func (b *browser) rebuildFormLocked(params url.Values) {
	if params == nil && b.form != nil {
		params, _ = b.form.params()
	}
	b.form = newSearchForm(b.resourceType, b.caps, b.formChanged)
	if params != nil {
		b.form.setParams(params)
	}
	b.title.SetText(b.resourceType)
	content := b.form.content
	if !b.form.searchable {
		note := widget.NewLabel("The server does not offer search on " + b.resourceType + ".")
		note.Importance = widget.WarningImportance
		content = container.NewVBox(note, content)
	}
	b.formBox.Objects = []fyne.CanvasObject{content}
	b.relayout()
	b.setQueryEnabledLocked(true)
	b.formChanged()
}

// setQueryEnabledLocked enables or disables the query row.
func (b *browser) setQueryEnabledLocked(on bool) {
	for _, w := range []fyne.Disableable{b.queryURL, b.search, b.copyCurl, b.curlToken} {
		setEnabled(w, on)
	}
}

// formChanged shows the form's query in the query URL.
func (b *browser) formChanged() {
	if b.form == nil {
		return
	}
	q, _ := b.form.params()
	b.setQueryURL(searchURL(b.client, b.resourceType, q))
	b.urlEdited = false
}

// setQueryURL sets the query URL without marking it as typed.
func (b *browser) setQueryURL(s string) {
	b.settingURL = true
	b.queryURL.SetText(s)
	b.settingURL = false
}

// explain shows text instead of a query (the type is greyed out: the token
// cannot read it).
func (b *browser) explain(resourceType, text string) {
	b.locked(func() {
		b.startLocked()
		b.clearDetailsLocked()
		b.resourceType, b.explained, b.form = resourceType, true, nil
		b.title.SetText(resourceType)
		l := widget.NewLabel(text)
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.WarningImportance
		b.formBox.Objects = []fyne.CanvasObject{l}
		b.relayout()
		b.setQueryURL("")
		b.setQueryEnabledLocked(false)
		b.clearResultsLocked()
		b.setStatusLocked("", "")
	})
}

// openFile browses a saved Bundle or resource JSON file offline.
func (b *browser) openFile(path string) {
	b.locked(func() {
		name := filepath.Base(path)
		b.loadLocked(name, func() (*fhirclient.Bundle, error) { return fhirclient.OpenFile(path) })
	})
}

// loadLocked shows what load returns (a file's Bundle), read on a worker.
func (b *browser) loadLocked(name string, load func() (*fhirclient.Bundle, error)) {
	gen, ctx := b.startLocked()
	b.busy = true
	b.clearDetailsLocked()
	b.setStatusLocked("Opening "+name+"…", "")
	b.updateButtonsLocked()
	go func() {
		bundle, err := load()
		if err != nil {
			b.doResult(gen, func() {
				b.busy = false
				b.updateButtonsLocked()
				b.showErrorLocked("Opening "+name+" failed", err)
			}, b.shown)
			return
		}
		rt := browserRowType(bundle, "")
		t := fhirclient.Rows(rt, bundle)
		b.opts.Logf("opened %s: %d entries", name, len(bundle.Entries))
		b.doResult(gen, func() {
			b.busy = false
			if b.resourceType == "" {
				b.title.SetText(name)
				l := widget.NewLabel("Browsing " + name + " offline. Choose a resource type on the left to search a server instead.")
				l.Wrapping = fyne.TextWrapWord
				b.formBox.Objects = []fyne.CanvasObject{l}
				b.relayout()
			}
			b.showResultLocked(resultSet{bundle: bundle, file: name, pageNo: 1}, t)
		}, nil)
		b.validate(ctx, gen, bundle)
	}()
}

// close cancels work in flight.
func (b *browser) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cancel != nil {
		b.cancel()
	}
	if b.detailCancel != nil {
		b.detailCancel()
	}
	b.closed = true
}

// showEmptyLocked shows what the pane says before a type or file is open.
func (b *browser) showEmptyLocked() {
	b.title.SetText("Resources")
	hint := "Choose a resource type on the left, or open a saved Bundle or resource with Open file…"
	if b.client == nil {
		hint = "Log in to a server and choose a resource type on the left, or open a saved Bundle or resource with Open file…"
	}
	l := widget.NewLabel(hint)
	l.Wrapping = fyne.TextWrapWord
	b.formBox.Objects = []fyne.CanvasObject{l}
	b.relayout()
	b.setQueryURL("")
	b.setQueryEnabledLocked(false)
	b.clearResultsLocked()
	b.setStatusLocked("", "")
}

// runQueryLocked runs the search in the query URL (the form's, unless the
// user has typed another).
func (b *browser) runQueryLocked() {
	if b.explained || b.resourceType == "" {
		return
	}
	if b.client == nil {
		b.setStatusLocked("Not connected: log in to a server to search, or open a saved file.", "")
		b.status.Importance = widget.DangerImportance
		b.status.Refresh()
		return
	}
	if !b.urlEdited && b.form != nil {
		if _, err := b.form.params(); err != nil {
			b.setStatusLocked("Check the form: "+err.Error(), "")
			b.status.Importance = widget.DangerImportance
			b.status.Refresh()
			return
		}
	}
	rt, params, err := searchParseURL(b.client.Base(), b.queryURL.Text)
	if err != nil {
		b.setStatusLocked("The query cannot run: "+err.Error(), "")
		b.status.Importance = widget.DangerImportance
		b.status.Refresh()
		return
	}
	b.searchLocked(rt, params)
}

// searchLocked runs a search on a worker.
func (b *browser) searchLocked(rt string, params url.Values) {
	client := b.client
	gen, ctx := b.startLocked()
	b.busy = true
	b.clearDetailsLocked()
	b.setStatusLocked("Searching "+rt+"…", "")
	b.updateButtonsLocked()
	go func() {
		bundle, err := client.Search(ctx, rt, params)
		if err != nil {
			b.answerError(gen, rt, "Searching "+rt+" failed", err)
			return
		}
		t := fhirclient.Rows(rt, bundle)
		b.opts.Logf("search %s: %d rows on the first page", rt, len(t.Rows))
		b.doResult(gen, func() {
			b.busy = false
			b.sortCol = -1
			b.showResultLocked(resultSet{searchType: rt, bundle: bundle, first: bundle, page: bundle, pageNo: 1}, t)
		}, func() { b.answer(rt, http.StatusOK, nil) })
		b.validate(ctx, gen, bundle)
	}()
}

// pageLocked fetches the previous or next page on a worker.
func (b *browser) pageLocked(rel string) {
	page, client, rt := b.res.page, b.client, b.res.searchType
	if page == nil || client == nil || page.Link(rel) == "" || b.busy || b.fetching {
		return
	}
	first, no, offset := b.res.first, b.res.pageNo, b.res.offset
	sortCol, desc := b.sortCol, b.sortDesc
	gen, ctx := b.startLocked()
	b.busy = true
	b.clearDetailsLocked()
	b.setStatusLocked(fmt.Sprintf("Fetching the %s page…", rel), "")
	b.updateButtonsLocked()
	go func() {
		var bundle *fhirclient.Bundle
		var err error
		if rel == "next" {
			bundle, err = client.Next(ctx, page)
		} else {
			bundle, err = client.Previous(ctx, page)
		}
		if err != nil {
			b.answerError(gen, rt, "Fetching the "+rel+" page failed", err)
			return
		}
		t := fhirclient.Rows(browserRowType(bundle, rt), bundle)
		if sortCol >= 0 {
			t.Sort(sortCol, desc)
		}
		if rel == "next" {
			no, offset = no+1, offset+page.Matches()
		} else {
			no, offset = max(1, no-1), max(0, offset-bundle.Matches())
		}
		b.doResult(gen, func() {
			b.busy = false
			b.showResultLocked(resultSet{searchType: rt, bundle: bundle, first: first, page: bundle, pageNo: no, offset: offset}, t)
		}, func() { b.answer(rt, http.StatusOK, nil) })
		b.validate(ctx, gen, bundle)
	}()
}

// fetchAllLocked fetches every page of the search, up to the limit, on a
// worker; rows are added as pages arrive.
func (b *browser) fetchAllLocked() {
	first, client, rt := b.res.first, b.client, b.res.searchType
	if first == nil || client == nil || b.busy || b.fetching || b.res.all {
		return
	}
	limit := b.fetchMax
	gen, ctx := b.startLocked()
	b.fetching = true
	b.sortCol = -1
	b.clearDetailsLocked()
	b.progress.Max = float64(limit)
	if first.Total != nil && *first.Total < limit {
		b.progress.Max = float64(max(1, *first.Total))
	}
	b.progress.SetValue(0)
	b.fetchRow.Show()
	b.setStatusLocked(fmt.Sprintf("Fetching every page of %s, up to %s…", rt, browserCount(limit)), "")
	b.updateButtonsLocked()
	go b.fetchAllWorker(ctx, gen, client, rt, first, limit)
}

func (b *browser) fetchAllWorker(ctx context.Context, gen uint64, client *fhirclient.Client, rt string, first *fhirclient.Bundle, limit int) {
	// all is the UI's merged Bundle: only fyne.Do functions touch it.
	// fetched is the worker's own list of the same entries.
	all := &fhirclient.Bundle{Type: first.Type, Total: first.Total, Links: first.Links, Version: first.Version,
		Source: first.Source, Warnings: slices.Clone(first.Warnings)}
	var fetched []fhirclient.Entry
	matches, pages := 0, 0
	seen := map[string]bool{first.Link("self"): true}
	// add keeps a page's entries up to the limit of matches and returns
	// them as a Bundle of their own, for their rows.
	add := func(p *fhirclient.Bundle) *fhirclient.Bundle {
		kept := *p
		kept.Entries = make([]fhirclient.Entry, 0, len(p.Entries))
		for _, e := range p.Entries {
			if browserIsMatch(e) {
				if matches >= limit {
					continue
				}
				matches++
			}
			kept.Entries = append(kept.Entries, e)
		}
		fetched = append(fetched, kept.Entries...)
		pages++
		return &kept
	}
	page := first
	kept := add(first)
	t := fhirclient.Rows(rt, kept)
	t.Rows, t.Entries = slices.Clip(t.Rows), slices.Clip(t.Entries)
	n := matches
	b.doResult(gen, func() {
		all.Entries = slices.Clone(kept.Entries)
		b.res = resultSet{searchType: rt, bundle: all, first: first, pageNo: 1}
		b.setTableLocked(t)
		b.progress.SetValue(float64(n))
		b.showBundleWarningsLocked(all)
		b.total.SetText(b.totalText())
	}, func() { b.hookPage(len(t.Rows)) })

	var err error
	for {
		next := page.Link("next")
		if next == "" || matches >= limit {
			break
		}
		if err = ctx.Err(); err != nil {
			break
		}
		if seen[next] {
			err = fhirclient.ErrPagingLoop
			break
		}
		seen[next] = true
		if page, err = client.Page(ctx, next); err != nil {
			break
		}
		kept := add(page)
		pt := fhirclient.Rows(rt, kept)
		n, warns, links := matches, page.Warnings, page.Links
		b.doResult(gen, func() {
			all.Entries = append(all.Entries, kept.Entries...)
			all.Warnings = append(all.Warnings, warns...)
			all.Links = links
			b.data.Rows = append(b.data.Rows, pt.Rows...)
			b.data.Entries = append(b.data.Entries, pt.Entries...)
			b.table.Refresh()
			b.progress.SetValue(float64(n))
			b.total.SetText(b.totalText())
			if len(warns) > 0 {
				b.showBundleWarningsLocked(all)
			}
		}, func() { b.hookPage(len(pt.Rows)) })
	}
	limited := err == nil && matches >= limit && page.Link("next") != ""
	cancelled := errors.Is(err, context.Canceled)
	b.opts.Logf("fetch all %s: %d matches in %d pages", rt, matches, pages)
	b.doResult(gen, func() {
		b.fetching = false
		b.fetchRow.Hide()
		b.res.all = err == nil
		b.res.limited = limited
		b.total.SetText(b.totalText())
		if err != nil && all.Link("next") != "" {
			// Stopped part-way: the merged Bundle's next link is the page
			// that did not arrive, so "Fetch all" resumes from there.
			b.res.first = all
		}
		switch {
		case cancelled:
			b.setStatusLocked(fmt.Sprintf("Cancelled after %s rows; the rows fetched so far are shown. “Fetch all” resumes from there.", browserCount(len(b.data.Rows))), "")
		case err != nil:
			b.showErrorLocked(fmt.Sprintf("Fetching every page stopped after %s rows (“Fetch all” resumes from there)", browserCount(len(b.data.Rows))), err)
		case limited:
			b.setStatusLocked(fmt.Sprintf("Stopped at the limit of %s matches.", browserCount(limit)), "")
		default:
			b.setStatusLocked(fmt.Sprintf("Fetched every page: %s pages.", browserCount(pages)), "")
		}
		b.updateButtonsLocked()
	}, func() {
		var he *fhirclient.HTTPError
		if errors.As(err, &he) {
			b.answer(rt, he.Status, err)
		}
		if cancelled {
			b.shown() // the rows stay, and nothing more runs
		}
	})
	if !cancelled {
		b.validate(ctx, gen, &fhirclient.Bundle{Entries: fetched})
	}
}

// browserFetchLimits are the limits "Fetch all" offers.
var browserFetchLimits = []int{1000, 10000, 100000}

// onFetchLimit offers the limits of "Fetch all".
func (b *browser) onFetchLimit() {
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(b.fetchLimit)
	widget.ShowPopUpMenuAtPosition(b.fetchLimitMenu(), b.win.Canvas(), pos.AddXY(0, b.fetchLimit.Size().Height))
}

// fetchLimitMenu is the menu of limits, the current one ticked.
func (b *browser) fetchLimitMenu() *fyne.Menu {
	var current int
	b.locked(func() { current = b.fetchMax })
	var items []*fyne.MenuItem
	for _, n := range browserFetchLimits {
		item := fyne.NewMenuItem("Fetch up to "+browserCount(n)+" matches", func() {
			b.locked(func() {
				b.fetchMax = n
				b.updateButtonsLocked()
			})
		})
		item.Checked = n == current
		items = append(items, item)
	}
	return fyne.NewMenu("Fetch all", items...)
}

// cancelFetchLocked stops fetch-all; the rows fetched so far stay.
func (b *browser) cancelFetchLocked() {
	if b.fetching && b.cancel != nil {
		b.cancel()
	}
}

// validate checks the entries of a result for conformance in the
// background, when it is small enough, and then reports the result as
// shown. It runs on the worker that fetched the result.
func (b *browser) validate(ctx context.Context, gen uint64, bundle *fhirclient.Bundle) {
	if len(bundle.Entries) > b.validateMax {
		b.doResult(gen, func() { b.updateButtonsLocked() }, b.shown)
		return
	}
	err := bundle.Validate(ctx, nil)
	b.doResult(gen, func() {
		if err == nil {
			b.res.checked = true
		}
		b.refreshWarningsLocked()
		b.updateButtonsLocked()
	}, b.shown)
}

// checkLocked checks a big result for conformance, on request.
func (b *browser) checkLocked() {
	bundle := b.res.bundle
	if bundle == nil || b.busy || b.fetching || b.res.checked {
		return
	}
	gen := b.gen
	ctx, cancel := context.WithCancel(context.Background())
	if prev := b.cancel; prev != nil {
		b.cancel = func() { cancel(); prev() }
	} else {
		b.cancel = cancel
	}
	b.busy = true
	b.setStatusLocked(fmt.Sprintf("Checking %s entries for conformance…", browserCount(len(bundle.Entries))), "")
	b.updateButtonsLocked()
	go func() {
		err := bundle.Validate(ctx, nil)
		b.doResult(gen, func() {
			b.busy = false
			if err == nil {
				b.res.checked = true
				b.setStatusLocked("", "")
			} else {
				b.setStatusLocked("The conformance check was cancelled.", "")
			}
			b.refreshWarningsLocked()
			b.updateButtonsLocked()
		}, b.shown)
	}()
}

// answerError shows a failed search or page and reports the server's
// answer.
func (b *browser) answerError(gen uint64, rt, what string, err error) {
	var he *fhirclient.HTTPError
	b.doResult(gen, func() {
		b.busy = false
		b.clearResultsLocked()
		b.showErrorLocked(what, err)
	}, func() {
		if errors.As(err, &he) {
			b.answer(rt, he.Status, err)
		}
		b.shown()
	})
	if errors.As(err, &he) {
		b.opts.Logf("%s: HTTP %d", strings.ToLower(what[:1])+what[1:], he.Status)
	} else if !errors.Is(err, context.Canceled) {
		b.opts.Logf("%s: %s", strings.ToLower(what[:1])+what[1:], fhirclient.Redact(err.Error()))
	}
}

// answer tells the window how the server answered a search or read.
func (b *browser) answer(rt string, status int, err error) {
	if b.opts.OnServerAnswer != nil && rt != "" {
		b.opts.OnServerAnswer(rt, status, err)
	}
}

// shown calls the onShown hook.
func (b *browser) shown() {
	if b.onShown != nil {
		b.onShown()
	}
}

// hookPage calls the onPage hook.
func (b *browser) hookPage(rows int) {
	if b.onPage != nil {
		b.onPage(rows)
	}
}

// setStatusLocked shows a message in plain words and, beside it, the
// server's own words.
func (b *browser) setStatusLocked(msg, server string) {
	b.status.Importance = widget.MediumImportance
	b.status.SetText(msg)
	if msg == "" {
		b.status.Hide()
	} else {
		b.status.Show()
	}
	if server == "" {
		b.serverText.Hide()
		b.serverText.SetText("")
		return
	}
	b.serverText.SetText("The server said: " + server)
	b.serverText.Show()
}

// showErrorLocked shows what failed, in plain words.
func (b *browser) showErrorLocked(what string, err error) {
	msg, server := browserErrorText(what, err)
	b.setStatusLocked(msg, server)
	if !errors.Is(err, context.Canceled) {
		b.status.Importance = widget.DangerImportance
		b.status.Refresh()
	}
}

// browserErrorText says what went wrong in plain words, and what the server
// said in its OperationOutcome, if it said anything.
func browserErrorText(what string, err error) (msg, server string) {
	if errors.Is(err, context.Canceled) {
		return what + ": cancelled.", ""
	}
	var he *fhirclient.HTTPError
	if errors.As(err, &he) {
		reason := he.Message
		switch {
		case he.Status == http.StatusForbidden:
			reason = "the token does not allow this (the server refused with 403 Forbidden)"
		case he.Status == http.StatusUnauthorized:
			reason = "the server did not accept the token (401 Unauthorized); renew the token or log in again"
		case he.Status >= 400:
			reason += fmt.Sprintf(" (HTTP %d %s)", he.Status, http.StatusText(he.Status))
		}
		msg = what + ": " + reason + "."
		if len(he.Issues) > 0 {
			server = strings.Join(he.Issues, "; ")
		} else if he.Body != "" {
			server = fmt.Sprintf("%q", he.Body)
		}
		return fhirclient.Redact(msg), server
	}
	var ne net.Error
	var ue *url.Error
	switch {
	case errors.Is(err, auth.ErrExpired):
		return what + ": the access token has expired; renew it or log in again.", ""
	case errors.Is(err, fhirclient.ErrTimeout) || (errors.As(err, &ne) && ne.Timeout()):
		return what + ": the server did not answer in time.", ""
	case errors.As(err, &ue) && !errors.Is(err, fhirclient.ErrCrossOrigin):
		return what + ": the server could not be reached (" + fhirclient.Redact(ue.Err.Error()) + ").", ""
	}
	return what + ": " + fhirclient.Redact(err.Error()) + ".", ""
}

// browserIsMatch reports whether an entry matched the search (rather than
// being included or an outcome).
func browserIsMatch(e fhirclient.Entry) bool {
	return e.Mode == "match" || (e.Mode == "" && e.ResourceType != "OperationOutcome")
}

// browserRowType picks the resource type whose rows a bundle shows: want,
// when the bundle has any, else the type of its first match.
func browserRowType(b *fhirclient.Bundle, want string) string {
	types := browserTypes(b)
	if want != "" && (slices.Contains(types, want) || len(types) == 0) {
		return want
	}
	for _, e := range b.Entries {
		if browserIsMatch(e) && e.ResourceType != "" {
			return e.ResourceType
		}
	}
	if len(types) > 0 {
		return types[0]
	}
	return want
}

// browserTypes lists the resource types in a bundle, outcomes left out.
func browserTypes(b *fhirclient.Bundle) []string {
	if b == nil {
		return nil
	}
	return slices.DeleteFunc(b.ResourceTypes(), func(t string) bool { return t == "OperationOutcome" })
}
