package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

// requestLogView lists the connection's requests, newest last: method,
// URL, status, duration, bytes, FHIR version. The log redacts tokens and
// secrets before anything reaches it.
type requestLogView struct {
	entries []fhirclient.LogEntry // Fyne goroutine only
	list    *widget.List
}

func newRequestLogView(log *fhirclient.RequestLog) (*requestLogView, func()) {
	v := &requestLogView{entries: log.Entries()}
	v.list = widget.NewList(
		func() int { return len(v.entries) },
		func() fyne.CanvasObject {
			l := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(v.entries) {
				o.(*widget.Label).SetText(logLine(v.entries[id]))
			}
		},
	)
	unsub := log.Subscribe(func(e fhirclient.LogEntry) {
		runOnUI(func() {
			v.entries = append(v.entries, e)
			v.list.Refresh()
			v.list.ScrollToBottom()
		})
	})
	return v, unsub
}

func logLine(e fhirclient.LogEntry) string {
	status := fmt.Sprint(e.Status)
	if e.Status == 0 {
		status = "---"
	}
	line := fmt.Sprintf("%s %-6s %s  %s  %s  %d B", e.Time.Format("15:04:05"), e.Method, status,
		e.Duration.Round(1e6), e.URL, e.Bytes)
	if e.FHIRVersion != "" {
		line += "  FHIR " + e.FHIRVersion
	}
	if e.Error != "" {
		line += "  — " + e.Error
	}
	if e.Note != "" {
		line += "  (" + e.Note + ")"
	}
	return line
}

// onRequestLog opens the request log of the current connection in its own
// window.
func (e *Explorer) onRequestLog() {
	c := e.conn
	if c == nil || c.client == nil || c.client.Log() == nil {
		return
	}
	v, unsub := newRequestLogView(c.client.Log())
	w := e.app.NewWindow("Request log — " + c.profile.Name)
	w.SetContent(container.NewBorder(
		widget.NewLabel("Every request of this connection. Authorization headers, tokens and secrets are redacted."),
		nil, nil, nil, v.list))
	w.SetOnClosed(unsub)
	w.Resize(fyne.NewSize(1000, 500))
	w.Show()
}
