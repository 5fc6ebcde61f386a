package ui

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

// exportFormat is a format the results can be exported in.
type exportFormat int

// The export formats.
const (
	exportCSV    exportFormat = iota // the visible columns, RFC 4180
	exportBundle                     // a searchset Bundle of the fetched entries
	exportNDJSON                     // one resource per line
)

// exportFormats describe the formats in the order the menu offers them.
var exportFormats = []struct {
	format exportFormat
	label  string
	ext    string
}{
	{exportCSV, "CSV (the visible columns)", ".csv"},
	{exportBundle, "JSON Bundle", ".json"},
	{exportNDJSON, "NDJSON (one resource per line)", ".ndjson"},
}

// exportSnapshot is what an export writes, taken on the Fyne goroutine;
// nothing in it changes afterwards.
type exportSnapshot struct {
	table   fhirclient.Table
	entries []fhirclient.Entry
	name    string // a file name to suggest, without extension
}

// snapshotLocked takes what an export writes.
func (b *browser) snapshotLocked() (exportSnapshot, bool) {
	bundle := b.res.bundle
	if bundle == nil || len(bundle.Entries) == 0 || b.busy || b.fetching {
		return exportSnapshot{}, false
	}
	n := len(bundle.Entries)
	name := b.data.ResourceType
	if name == "" {
		name = "results"
	}
	return exportSnapshot{table: b.data, entries: bundle.Entries[:n:n], name: name}, true
}

// onExport offers the export formats, then asks where to save.
func (b *browser) onExport() {
	var snap exportSnapshot
	var ok bool
	b.locked(func() { snap, ok = b.snapshotLocked() })
	if !ok {
		return
	}
	var items []*fyne.MenuItem
	for _, f := range exportFormats {
		items = append(items, fyne.NewMenuItem(f.label, func() {
			d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
				if err != nil || w == nil {
					return
				}
				b.locked(func() { b.exportLocked(w, w.URI().Name(), f.format) })
			}, b.win)
			d.SetFileName(snap.name + f.ext)
			d.Show()
		}))
	}
	c := b.win.Canvas()
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(b.export)
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("Export", items...), c, pos.AddXY(0, b.export.Size().Height))
}

// exportTo exports the results to the file at path; the dialogs do the
// same through exportLocked. Tests call it.
func (b *browser) exportTo(path string, f exportFormat) {
	b.locked(func() {
		b.exportStartLocked(filepath.Base(path), f, func() (io.WriteCloser, error) { return os.Create(path) })
	})
}

// exported reports a finished export to the onExported hook, on the Fyne
// goroutine.
func (b *browser) exported(name string, err error) {
	runOnUI(func() {
		if b.onExported != nil {
			b.onExported(name, err)
		}
	})
}

// exportLocked writes the results to w, which a save dialog opened.
func (b *browser) exportLocked(w io.WriteCloser, name string, f exportFormat) {
	b.exportStartLocked(name, f, func() (io.WriteCloser, error) { return w, nil })
}

// exportStartLocked writes the results, as they are now, on a worker: it
// opens the file there, writes and closes it.
func (b *browser) exportStartLocked(name string, f exportFormat, open func() (io.WriteCloser, error)) {
	snap, ok := b.snapshotLocked()
	if !ok {
		b.setStatusLocked("Nothing to export: run a search or open a file first.", "")
		go func() {
			if w, err := open(); err == nil {
				_ = w.Close()
			}
			b.exported(name, errors.New("there are no results to export"))
		}()
		return
	}
	gen := b.gen
	b.setStatusLocked("Exporting to "+name+"…", "")
	go func() {
		w, err := open()
		if err == nil {
			err = exportWrite(w, snap, f)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		what := fmt.Sprintf("%s rows", browserCount(len(snap.table.Rows)))
		if f != exportCSV {
			what = fmt.Sprintf("%s resources", browserCount(exportCount(snap.entries, f)))
		}
		if err == nil {
			b.opts.Logf("exported %s to %s", what, name)
		}
		b.doResult(gen, func() {
			if err != nil {
				b.showErrorLocked("Exporting to "+name+" failed", err)
				return
			}
			b.setStatusLocked("Exported "+what+" to "+name+".", "")
		}, nil)
		b.exported(name, err)
	}()
}

// exportWrite writes a snapshot in a format.
func exportWrite(w io.Writer, snap exportSnapshot, f exportFormat) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var err error
	switch f {
	case exportCSV:
		err = writeCSV(bw, &snap.table)
	case exportBundle:
		err = writeBundle(bw, snap.entries)
	case exportNDJSON:
		err = writeNDJSON(bw, snap.entries)
	default:
		err = fmt.Errorf("unknown export format %d", f)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// exportCount counts the resources an export of entries holds.
func exportCount(entries []fhirclient.Entry, f exportFormat) int {
	n := 0
	for _, e := range entries {
		if exportKeep(e, f) {
			n++
		}
	}
	return n
}

// exportKeep reports whether an entry is exported: every entry with a
// resource goes into a Bundle; NDJSON leaves the server's outcomes out.
func exportKeep(e fhirclient.Entry, f exportFormat) bool {
	if len(bytes.TrimSpace(e.Resource)) == 0 {
		return false
	}
	if f == exportNDJSON {
		return e.Mode != "outcome" && e.ResourceType != "OperationOutcome"
	}
	return true
}

// writeCSV writes the table's columns (as shown, in the order shown) as
// CSV with a header row, per RFC 4180.
func writeCSV(w io.Writer, t *fhirclient.Table) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(t.Columns); err != nil {
		return err
	}
	for _, row := range t.Rows {
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeBundle writes the entries as a searchset Bundle, each resource's
// JSON exactly as it was received.
func writeBundle(w io.Writer, entries []fhirclient.Entry) error {
	matches := 0
	for _, e := range entries {
		if exportKeep(e, exportBundle) && browserIsMatch(e) {
			matches++
		}
	}
	ew := &exportErrWriter{w: w}
	fmt.Fprintf(ew, "{\n  \"resourceType\": \"Bundle\",\n  \"type\": \"searchset\",\n  \"total\": %d,\n  \"entry\": [", matches)
	first := true
	for _, e := range entries {
		if !exportKeep(e, exportBundle) {
			continue
		}
		if !first {
			ew.WriteString(",")
		}
		first = false
		ew.WriteString("\n    {")
		if e.FullURL != "" {
			ew.WriteString("\"fullUrl\": ")
			ew.writeJSON(e.FullURL)
			ew.WriteString(", ")
		}
		ew.WriteString("\"resource\": ")
		ew.Write(e.Resource)
		if e.Mode != "" {
			ew.WriteString(", \"search\": {\"mode\": ")
			ew.writeJSON(e.Mode)
			ew.WriteString("}")
		}
		ew.WriteString("}")
	}
	ew.WriteString("\n  ]\n}\n")
	return ew.err
}

// writeNDJSON writes one resource per line.
func writeNDJSON(w io.Writer, entries []fhirclient.Entry) error {
	ew := &exportErrWriter{w: w}
	var buf bytes.Buffer
	for _, e := range entries {
		if !exportKeep(e, exportNDJSON) {
			continue
		}
		buf.Reset()
		if err := json.Compact(&buf, e.Resource); err != nil {
			return fmt.Errorf("%s: %w", e.Reference(), err)
		}
		buf.WriteByte('\n')
		ew.Write(buf.Bytes())
	}
	return ew.err
}

// exportErrWriter keeps the first write error, so the writers above can
// write without checking each call.
type exportErrWriter struct {
	w   io.Writer
	err error
}

func (e *exportErrWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *exportErrWriter) WriteString(s string) { _, _ = e.Write([]byte(s)) }

func (e *exportErrWriter) writeJSON(v any) {
	data, err := json.Marshal(v)
	if err != nil {
		e.err = err
		return
	}
	_, _ = e.Write(data)
}

// onOpenFile asks for a saved Bundle or resource to browse offline.
func (b *browser) onOpenFile() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		name := r.URI().Name()
		b.locked(func() {
			b.loadLocked(name, func() (*fhirclient.Bundle, error) {
				defer r.Close()
				data, err := io.ReadAll(io.LimitReader(r, fhirclient.MaxFileBytes+1))
				if err != nil {
					return nil, fmt.Errorf("read %s: %w", name, err)
				}
				if len(data) > fhirclient.MaxFileBytes {
					return nil, fmt.Errorf("open %s: %w (more than %d MB)", name, fhirclient.ErrTooLarge, fhirclient.MaxFileBytes>>20)
				}
				return fhirclient.DecodeFile(name, data)
			})
		})
	}, b.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".json", ".ndjson"}))
	d.Show()
}

// saveAttachmentTo saves the attachment shown to the file at path. Tests
// call it; the Save as… dialog does the same through saveAttachmentLocked.
func (b *browser) saveAttachmentTo(path string) {
	b.locked(func() {
		b.saveStartLocked(filepath.Base(path), func() (io.WriteCloser, error) { return os.Create(path) })
	})
}

// saveAttachmentLocked writes the attachment's content to w, which a save
// dialog opened.
func (b *browser) saveAttachmentLocked(w io.WriteCloser, name string) {
	b.saveStartLocked(name, func() (io.WriteCloser, error) { return w, nil })
}

// saveStartLocked writes the attachment's content on a worker.
func (b *browser) saveStartLocked(name string, open func() (io.WriteCloser, error)) {
	v := b.details.view
	if v == nil || v.content == nil {
		go func() {
			if w, err := open(); err == nil {
				_ = w.Close()
			}
			b.exported(name, errors.New("there is no attachment content to save"))
		}()
		return
	}
	data := v.content.Data
	gen := b.detailGen
	go func() {
		w, err := open()
		if err == nil {
			_, err = w.Write(data)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		b.doDetails(gen, func() {
			if err != nil {
				b.details.setMessageLocked("Saving "+name+" failed: "+err.Error(), "", true)
				return
			}
			b.details.setMessageLocked("Saved "+detailsSize(len(data))+" to "+name+".", "", false)
		}, nil)
		b.exported(name, err)
	}()
}

// browserCopy puts text on the clipboard.
func browserCopy(text string) {
	fyne.CurrentApp().Clipboard().SetContent(text)
}

// onCopyCurl copies a curl command that runs the query.
func (b *browser) onCopyCurl() {
	u := strings.TrimSpace(b.queryURL.Text)
	if u == "" {
		return
	}
	token := ""
	if b.curlToken.Checked && b.opts.Token != nil {
		token = b.opts.Token()
	}
	browserCopy(searchCurl(u, token))
	msg := "Copied a curl command; set TOKEN to the access token before running it."
	if token != "" {
		msg = "Copied a curl command with the access token in it: keep it private."
	}
	b.locked(func() { b.setStatusLocked(msg, "") })
}
