package ui

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/connect"
	"github.com/careconnectexplorer/ccexplorer/profile"
)

// loginPanel shows where a log-in stands: ready, in progress, waiting for
// the browser (with the URL to copy and Cancel), or failed in plain words.
type loginPanel struct {
	win     fyne.Window
	title   *widget.Label
	detail  *widget.Label
	url     *widget.Label
	copyURL *widget.Button
	login   *widget.Button
	cancel  *widget.Button
	box     *fyne.Container

	onLogin  func()
	onCancel func()
}

func newLoginPanel(win fyne.Window) *loginPanel {
	l := &loginPanel{win: win}
	l.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.title.Wrapping = fyne.TextWrapWord
	l.detail = widget.NewLabel("")
	l.detail.Wrapping = fyne.TextWrapWord
	l.url = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	l.url.Wrapping = fyne.TextWrapBreak
	l.url.Selectable = true
	l.copyURL = widget.NewButtonWithIcon("Copy URL", theme.ContentCopyIcon(), func() {
		fyne.CurrentApp().Clipboard().SetContent(l.url.Text)
	})
	l.login = widget.NewButtonWithIcon("Log in", theme.LoginIcon(), func() { call(l.onLogin) })
	l.login.Importance = widget.HighImportance
	l.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { call(l.onCancel) })
	l.box = container.NewVBox(l.title, l.detail, l.url, container.NewHBox(l.login, l.copyURL, l.cancel))
	l.hide()
	return l
}

func (l *loginPanel) object() fyne.CanvasObject { return l.box }

func (l *loginPanel) set(title, detail, url string, login, cancel bool, imp widget.Importance) {
	l.title.SetText(title)
	l.title.Importance = imp
	l.title.Refresh()
	l.detail.SetText(detail)
	l.detail.Hidden = detail == ""
	l.url.SetText(url)
	l.url.Hidden = url == ""
	l.copyURL.Hidden = url == ""
	l.login.Hidden = !login
	l.cancel.Hidden = !cancel
	l.box.Show()
	l.box.Refresh()
}

// showReady offers to log in with the profile's grant.
func (l *loginPanel) showReady(p profile.Profile) {
	detail := "Grant: " + p.Grant.String() + "."
	if p.Grant == profile.GrantAuthorizationCode {
		detail += " Your browser opens to log in; come back here afterwards."
	}
	if p.Grant == profile.GrantPassword {
		detail += " " + auth.PasswordGrantLabel
	}
	l.set("Log in to "+p.Name, detail, "", true, false, widget.MediumImportance)
}

// showWorking says a log-in is under way.
func (l *loginPanel) showWorking(msg string) {
	l.set(msg, "", "", false, true, widget.MediumImportance)
}

// showWaiting says the app waits for the browser, with the URL to copy in
// case the browser did not open.
func (l *loginPanel) showWaiting(url string) {
	l.set("Waiting for the browser…",
		"Log in and approve in the browser window that opened, then come back here. If no browser opened, copy this address into one:",
		url, false, true, widget.MediumImportance)
}

// showFailed says why the log-in failed, in plain words, and offers to try
// again.
func (l *loginPanel) showFailed(err error) {
	title, detail := loginFailure(err)
	l.set(title, detail, "", true, false, widget.DangerImportance)
	l.login.SetText("Try again")
}

func (l *loginPanel) hide() {
	l.login.SetText("Log in")
	l.box.Hide()
}

// loginFailure puts a log-in error in plain words: a title, then the
// details (the server's own message is part of the error text).
func loginFailure(err error) (title, detail string) {
	var te *auth.TokenError
	var ae *auth.AuthorizationError
	switch {
	case errors.Is(err, auth.ErrCancelled):
		return "Log-in cancelled", "Nothing was changed. Log in again when you are ready."
	case errors.Is(err, auth.ErrTimedOut):
		return "The browser did not come back in time", "The log-in waited too long for the browser. " + sentence(err.Error())
	case errors.As(err, &te):
		return sentence(te.Error()), ""
	case errors.As(err, &ae):
		return sentence(ae.Error()), ""
	case errors.Is(err, connect.ErrRedirectRefused):
		return "The server redirected somewhere the app will not follow with your credentials", sentence(err.Error())
	}
	return "Log-in failed", sentence(err.Error())
}

// sentence capitalises s.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
