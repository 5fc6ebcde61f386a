package ui

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/auth"
)

// expiringSoon is when the countdown turns to a warning.
const expiringSoon = 5 * time.Minute

// tokenPanel is the session bar: granted scopes as chips, the countdown,
// auto-renew, renew, copy token, log out and the decoded token.
type tokenPanel struct {
	win fyne.Window

	title     *widget.Label
	scopes    *fyne.Container
	assumed   *widget.Label
	countdown *widget.Label
	autoRenew *widget.Check
	renew     *widget.Button
	copyTok   *widget.Button
	decoded   *widget.Button
	logout    *widget.Button
	box       fyne.CanvasObject

	info auth.TokenInfo // what is shown; Fyne goroutine only
	has  bool

	// Handlers, set by the Explorer.
	onRenew     func()
	onLogout    func()
	onAutoRenew func(bool)
	onCopy      func()
}

func newTokenPanel(win fyne.Window) *tokenPanel {
	p := &tokenPanel{win: win}
	p.title = widget.NewLabelWithStyle("Not logged in", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.scopes = container.NewHBox()
	p.assumed = widget.NewLabel("")
	p.assumed.Importance = widget.WarningImportance
	p.countdown = widget.NewLabel("")
	p.autoRenew = widget.NewCheck("Auto-renew", func(on bool) {
		if p.onAutoRenew != nil {
			p.onAutoRenew(on)
		}
	})
	p.autoRenew.SetChecked(true)
	p.renew = widget.NewButtonWithIcon("Renew now", theme.ViewRefreshIcon(), func() { call(p.onRenew) })
	p.copyTok = widget.NewButtonWithIcon("Copy token", theme.ContentCopyIcon(), func() { call(p.onCopy) })
	p.decoded = widget.NewButtonWithIcon("Token…", theme.InfoIcon(), p.showDecoded)
	p.logout = widget.NewButtonWithIcon("Log out", theme.LogoutIcon(), func() { call(p.onLogout) })
	p.box = container.NewBorder(nil, nil, p.title,
		container.NewHBox(p.countdown, p.autoRenew, p.renew, p.copyTok, p.decoded, p.logout),
		container.NewHScroll(container.NewHBox(p.scopes, p.assumed)))
	p.clear("Not logged in")
	return p
}

func call(fn func()) {
	if fn != nil {
		fn()
	}
}

func (p *tokenPanel) object() fyne.CanvasObject { return p.box }

// clear shows that there is no session, with a word on why.
func (p *tokenPanel) clear(why string) {
	p.has = false
	p.info = auth.TokenInfo{}
	p.title.SetText(why)
	p.scopes.RemoveAll()
	p.assumed.SetText("")
	p.countdown.SetText("")
	for _, b := range []fyne.Disableable{p.autoRenew, p.renew, p.copyTok, p.decoded, p.logout} {
		b.Disable()
	}
}

// show displays a session's token info.
func (p *tokenPanel) show(info auth.TokenInfo, left time.Duration) {
	p.has = true
	p.info = info
	p.title.SetText("Scopes")
	p.scopes.RemoveAll()
	if len(info.Granted) == 0 {
		p.scopes.Add(widget.NewLabel("(none)"))
	}
	for _, s := range info.Granted {
		p.scopes.Add(newChip(s))
	}
	switch info.ScopeSource {
	case auth.ScopesRequested:
		p.assumed.SetText("assumed: the server did not say which scopes it granted")
	case auth.ScopesFromClaim:
		p.assumed.SetText("from the token's claims")
		p.assumed.Importance = widget.LowImportance
	default:
		p.assumed.SetText("")
	}
	p.autoRenew.SetChecked(info.AutoRenew)
	for _, b := range []fyne.Disableable{p.copyTok, p.decoded, p.logout} {
		b.Enable()
	}
	if info.CanRenew {
		p.renew.Enable()
		p.autoRenew.Enable()
	} else {
		p.renew.Disable()
		p.autoRenew.Disable()
	}
	p.tick(left)
}

// tick shows the time left on the token: a warning colour in its last five
// minutes, "expired" at zero.
func (p *tokenPanel) tick(left time.Duration) {
	if !p.has {
		return
	}
	p.countdown.SetText(countdownText(left))
	imp := widget.MediumImportance
	switch {
	case left == 0:
		imp = widget.DangerImportance
	case left > 0 && left < expiringSoon:
		imp = widget.WarningImportance
	}
	if p.countdown.Importance != imp {
		p.countdown.Importance = imp
		p.countdown.Refresh()
	}
}

// countdownText says how long a token still lives.
func countdownText(left time.Duration) string {
	switch {
	case left < 0:
		return "Expiry unknown"
	case left == 0:
		return "Token expired"
	}
	left = left.Truncate(time.Second)
	h, m, s := int(left.Hours()), int(left.Minutes())%60, int(left.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("Expires in %d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("Expires in %02d:%02d", m, s)
}

// showDecoded opens the decoded token: header and claims as pretty JSON,
// with its verification state and where the expiry and scopes came from.
func (p *tokenPanel) showDecoded() {
	if !p.has {
		return
	}
	d := newDecodedTokenView(p.info)
	dlg := dialog.NewCustom("Access token", "Close", d, p.win)
	dlg.Resize(fyne.NewSize(640, 560))
	dlg.Show()
}

// newDecodedTokenView lays out what a session knows about its token.
func newDecodedTokenView(info auth.TokenInfo) fyne.CanvasObject {
	var facts []string
	facts = append(facts, fmt.Sprintf("Scopes (%s): %s", info.ScopeSource, strings.Join(info.Granted, " ")))
	if !info.ExpiresAt.IsZero() {
		facts = append(facts, fmt.Sprintf("Expires at %s (from %s)", info.ExpiresAt.Local().Format("2006-01-02 15:04:05"), info.ExpirySource))
	}
	if info.ExpiryDisagrees {
		facts = append(facts, fmt.Sprintf("Warning: expires_in and the JWT exp disagree by %s", info.ExpiryDisagreement.Round(time.Second)))
	}
	facts = append(facts, "Renewal: "+info.Renewal)
	header, claims := "(an opaque token: nothing to decode)", ""
	verification := "Opaque token"
	if info.JWT != nil {
		header, claims = prettyJSON(info.JWT.Header), prettyJSON(info.JWT.Claims)
		verification = info.JWT.Label()
	}
	ver := widget.NewLabel(verification)
	ver.Importance = widget.WarningImportance
	if info.JWT != nil && info.JWT.Verified {
		ver.Importance = widget.SuccessImportance
	}
	ver.Wrapping = fyne.TextWrapWord
	factsLabel := widget.NewLabel(strings.Join(facts, "\n"))
	factsLabel.Wrapping = fyne.TextWrapWord
	headerText := readOnlyText(header)
	claimsText := readOnlyText(claims)
	tabs := container.NewAppTabs(
		container.NewTabItem("Claims", claimsText),
		container.NewTabItem("Header", headerText),
	)
	return container.NewBorder(container.NewVBox(ver, factsLabel), nil, nil, nil, tabs)
}

// readOnlyText is a scrollable monospace text the user can select and copy
// but not change.
func readOnlyText(s string) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	l.Selectable = true
	return container.NewScroll(l)
}

func prettyJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// newChip shows one granted scope as a rounded tag.
func newChip(text string) fyne.CanvasObject {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.Size(theme.SizeNameInputRadius)
	return container.NewStack(bg, widget.NewLabel(text))
}
