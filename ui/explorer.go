// Package ui is Care Connect Explorer's window. It is the only package that
// builds widgets; the work behind them is done by connect, auth, fhirclient
// and profile, always off the Fyne goroutine.
package ui

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/assets"
	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/connect"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
	"github.com/careconnectexplorer/ccexplorer/profile"
)

// AppID is the stable Fyne application ID. It keys preferences and keyring
// entries, so it never changes.
const AppID = "org.careconnectexplorer.ccexplorer"

// NewApp creates the Fyne app the explorer runs in: its ID (where Fyne keeps
// preferences) and its icon. The command's main.go and the start-up profiler
// (bench/cmd/startprof) both start this way.
func NewApp() fyne.App {
	a := app.NewWithID(AppID)
	a.SetIcon(Icon)
	return a
}

// Icon is the app icon as a Fyne resource, at the 128×128 the window
// manager needs (assets.WindowIconPNG).
var Icon = fyne.NewStaticResource("icon.png", assets.WindowIconPNG)

// Options configure an Explorer; the zero value is what the app uses.
type Options struct {
	// ConfigDir is the profile folder; "" means the profile package's
	// default (which honours CCEXPLORER_CONFIG_DIR).
	ConfigDir string
	// KeyringBackend overrides CCEXPLORER_KEYRING_BACKEND when set.
	KeyringBackend string
	// Now is the sessions' and countdown's clock; nil means time.Now.
	Now func() time.Time
	// Ticks drive the countdown and renewal; nil means a one-second ticker.
	Ticks <-chan time.Time
	// OpenBrowser shows an authorization URL; nil means the system browser.
	OpenBrowser func(ctx context.Context, url string) error
	// Logf receives one plain line per milestone (never a secret); nil
	// means the standard logger.
	Logf func(format string, args ...any)
	// Version is shown in the About dialog.
	Version string
}

// Explorer is the main window and what it shows.
type Explorer struct {
	opts Options
	app  fyne.App
	win  fyne.Window

	ctx    context.Context
	cancel context.CancelFunc

	profileSelect *widget.Select
	profileWarn   *widget.Label
	editBtn       *widget.Button
	dupBtn        *widget.Button
	delBtn        *widget.Button
	matrixBtn     *widget.Button
	logBtn        *widget.Button
	status        *widget.Label
	types         *typesList
	token         *tokenPanel
	login         *loginPanel
	browser       *browser

	// Fyne goroutine only.
	ws   *connect.Workspace
	conn *connection

	released bool // releaseStartupMemory has run

	// hooks for tests, called on the Fyne goroutine.
	onConnected  func(c *connection) // a session (or open server) is ready and types are listed
	onLoginState func()              // the login panel changed
}

// connection is the live state of the selected profile. Workers hold a
// pointer and apply results only while it is still the current one.
type connection struct {
	ctx    context.Context
	cancel context.CancelFunc

	profile profile.Profile
	target  *connect.Target
	session *auth.Session
	client  *fhirclient.Client
	caps    *fhirclient.Capabilities
	unsub   func()
	// loginCancel cancels a log-in in progress.
	loginCancel context.CancelFunc
}

// New builds the main window on a, opens the profiles and connects to the
// default profile, all in the background.
func New(a fyne.App, opts Options) *Explorer {
	return newExplorerWithHooks(a, opts, nil)
}

// newExplorerWithHooks is New with a chance to set test hooks before any
// background work starts.
func newExplorerWithHooks(a fyne.App, opts Options, hooks func(*Explorer)) *Explorer {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	e := &Explorer{opts: opts, app: a, win: a.NewWindow("Care Connect Explorer")}
	e.win.SetIcon(Icon)
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.buildUI()
	if hooks != nil {
		hooks(e)
	}
	e.win.SetOnClosed(e.Close)
	go e.openWorkspace()
	go e.tick()
	return e
}

// Window returns the main window.
func (e *Explorer) Window() fyne.Window { return e.win }

// Close cancels everything in flight and stops the built-in sandbox. It is
// safe to call more than once.
func (e *Explorer) Close() {
	e.cancel()
	if e.browser != nil {
		e.browser.close()
	}
	ws := e.ws
	if ws != nil {
		go func() { _ = ws.Close() }()
	}
}

func (e *Explorer) buildUI() {
	bold := fyne.TextStyle{Bold: true}
	e.profileSelect = widget.NewSelect(nil, func(name string) { e.selectProfile(name) })
	e.profileSelect.PlaceHolder = "Opening profiles…"
	e.profileWarn = widget.NewLabel("")
	e.profileWarn.Importance = widget.WarningImportance
	e.profileWarn.Wrapping = fyne.TextWrapWord
	e.profileWarn.Hide()
	addBtn := widget.NewButtonWithIcon("", theme.ContentAddIcon(), e.onAddProfile)
	e.editBtn = widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), e.onEditProfile)
	e.dupBtn = widget.NewButtonWithIcon("", theme.ContentCopyIcon(), e.onDuplicateProfile)
	e.delBtn = widget.NewButtonWithIcon("", theme.DeleteIcon(), e.onDeleteProfile)
	more := widget.NewButtonWithIcon("", theme.MoreHorizontalIcon(), nil)
	more.OnTapped = func() {
		menu := fyne.NewMenu("",
			fyne.NewMenuItem("Import profiles…", e.onImportProfiles),
			fyne.NewMenuItem("Export profiles…", e.onExportProfiles),
			fyne.NewMenuItemSeparator(),
			fyne.NewMenuItem("Open a saved Bundle or resource…", e.onOpenFile),
			fyne.NewMenuItem("About", e.onAbout),
		)
		widget.ShowPopUpMenuAtRelativePosition(menu, e.win.Canvas(), fyne.NewPos(0, more.Size().Height), more)
	}
	profileButtons := container.NewHBox(addBtn, e.editBtn, e.dupBtn, e.delBtn, more)

	e.types = newTypesList()
	e.types.onChoose = e.chooseType
	e.matrixBtn = widget.NewButton("Access matrix", e.onAccessMatrix)
	e.matrixBtn.Disable()
	e.logBtn = widget.NewButtonWithIcon("Request log", theme.ListIcon(), e.onRequestLog)
	e.logBtn.Disable()

	sidebar := container.NewBorder(
		container.NewVBox(
			widget.NewLabelWithStyle("Profile", fyne.TextAlignLeading, bold),
			e.profileSelect, profileButtons, e.profileWarn,
			widget.NewLabelWithStyle("Resource types", fyne.TextAlignLeading, bold)),
		container.NewVBox(e.matrixBtn, e.logBtn),
		nil, nil, e.types.list)

	e.token = newTokenPanel(e.win)
	e.token.onRenew = e.onRenew
	e.token.onLogout = e.onLogout
	e.token.onAutoRenew = e.onAutoRenew
	e.token.onCopy = e.onCopyToken
	e.login = newLoginPanel(e.win)
	e.login.onLogin = e.onLogin
	e.login.onCancel = e.onCancelLogin

	e.status = widget.NewLabel("Opening profiles…")
	e.status.Wrapping = fyne.TextWrapWord

	e.browser = newBrowser(e.win, browserOptions{
		OnServerAnswer: e.onServerAnswer,
		Logf:           e.opts.Logf,
		Token:          e.currentToken,
	})
	centre := container.NewBorder(container.NewVBox(e.status, e.login.object()), nil, nil, nil, e.browser.object())

	split := container.NewHSplit(sidebar, centre)
	split.Offset = 0.24
	e.win.SetContent(container.NewBorder(container.NewVBox(e.token.object(), widget.NewSeparator()), nil, nil, nil, split))
	e.win.Resize(fyne.NewSize(1280, 800))
	e.setProfileButtons(nil)
}

// do runs fn on the Fyne goroutine unless the window has closed.
func (e *Explorer) do(fn func()) {
	runOnUI(func() {
		if e.ctx.Err() == nil {
			fn()
		}
	})
}

// doFor runs fn on the Fyne goroutine if c is still the current connection.
func (e *Explorer) doFor(c *connection, fn func()) {
	e.do(func() {
		if e.conn == c && c.ctx.Err() == nil {
			fn()
		}
	})
}

func (e *Explorer) setStatus(msg string, imp widget.Importance) {
	e.status.SetText(msg)
	if e.status.Importance != imp {
		e.status.Importance = imp
		e.status.Refresh()
	}
}

// openWorkspace opens the profile store and the keyring (a worker
// goroutine: file I/O, and the keyring may ask for a passphrase).
func (e *Explorer) openWorkspace() {
	ws, err := connect.Open(connect.Options{
		Dir: e.opts.ConfigDir, KeyringBackend: e.opts.KeyringBackend, Passphrase: e.askPassphrase,
	})
	var corrupt *profile.CorruptError
	if errors.As(err, &corrupt) {
		e.do(func() { e.offerFreshStart(corrupt) })
		return
	}
	if err != nil {
		e.do(func() {
			e.setStatus("The profiles could not be opened: "+err.Error(), widget.DangerImportance)
		})
		return
	}
	e.do(func() { e.useWorkspace(ws) })
}

func (e *Explorer) useWorkspace(ws *connect.Workspace) {
	e.ws = ws
	if ws.SecretsProblem != nil {
		e.opts.Logf("keyring unavailable: %v", ws.SecretsProblem)
		dialog.ShowInformation("Keyring not available",
			"The system keyring could not be opened:\n"+ws.SecretsProblem.Error()+
				"\n\nProfiles still work, but secrets and sessions are kept only until the app closes.", e.win)
	}
	e.refreshProfiles(ws.Store.Default())
}

// offerFreshStart explains a damaged profile file and lets the user start
// afresh (the damaged file stays as a backup) or carry on with the
// built-in profiles without touching the file.
func (e *Explorer) offerFreshStart(ce *profile.CorruptError) {
	msg := fmt.Sprintf("The profile file %s could not be read:\n%v\n\n", ce.Path, ce.Err)
	if ce.Backup != "" {
		msg += "A copy of it was kept at " + ce.Backup + ".\n\n"
	}
	msg += "Start a fresh profile list? (Choose No to use only the built-in sandbox for now; the file is left as it is.)"
	dialog.ShowConfirm("Profile file damaged", msg, func(fresh bool) {
		go func() {
			var ws *connect.Workspace
			var err error
			if fresh {
				if _, err = profile.OpenFresh(e.opts.ConfigDir); err == nil {
					ws, err = connect.Open(connect.Options{Dir: e.opts.ConfigDir, KeyringBackend: e.opts.KeyringBackend, Passphrase: e.askPassphrase})
				}
			} else {
				var tmp string
				if tmp, err = os.MkdirTemp("", "ccexplorer-profiles-"); err == nil {
					ws, err = connect.Open(connect.Options{Dir: tmp, KeyringBackend: profile.BackendMemory})
				}
			}
			e.do(func() {
				if err != nil {
					e.setStatus("The profiles could not be opened: "+err.Error(), widget.DangerImportance)
					return
				}
				e.useWorkspace(ws)
			})
		}()
	}, e.win)
}

// askPassphrase asks for the encrypted file keyring's passphrase. It runs
// on a worker goroutine and waits for the dialog.
func (e *Explorer) askPassphrase(prompt string) (string, error) {
	type answer struct {
		pass string
		ok   bool
	}
	ch := make(chan answer, 1)
	e.do(func() {
		entry := widget.NewPasswordEntry()
		dialog.ShowForm("Keyring passphrase", "Unlock", "Cancel",
			[]*widget.FormItem{widget.NewFormItem(prompt, entry)},
			func(ok bool) { ch <- answer{entry.Text, ok} }, e.win)
	})
	select {
	case a := <-ch:
		if !a.ok {
			return "", errors.New("no passphrase given")
		}
		return a.pass, nil
	case <-e.ctx.Done():
		return "", e.ctx.Err()
	}
}

// refreshProfiles reloads the selector and selects name (or the default).
func (e *Explorer) refreshProfiles(name string) {
	var names []string
	for _, p := range e.ws.Store.List() {
		names = append(names, p.Name)
	}
	e.profileSelect.SetOptions(names)
	e.profileSelect.PlaceHolder = "Choose a profile"
	if name == "" {
		name = e.ws.Store.Default()
	}
	if e.conn != nil && e.conn.profile.Name == name && e.profileSelect.Selected == name {
		return
	}
	e.profileSelect.SetSelected(name) // calls selectProfile
}

func (e *Explorer) setProfileButtons(p *profile.Profile) {
	for _, b := range []*widget.Button{e.editBtn, e.dupBtn, e.delBtn} {
		if p == nil {
			b.Disable()
		} else {
			b.Enable()
		}
	}
	if p != nil && p.Builtin {
		e.delBtn.Disable()
	}
}

// closeConnection ends the current connection: cancels its work and stops
// its session's ticking.
func (e *Explorer) closeConnection() {
	c := e.conn
	if c == nil {
		return
	}
	c.cancel()
	if c.unsub != nil {
		c.unsub()
	}
	e.conn = nil
}

// selectProfile switches to a profile: the previous connection ends, the
// new one is resolved (sandbox started, discovery run) on a worker.
func (e *Explorer) selectProfile(name string) {
	if e.ws == nil || name == "" {
		return
	}
	e.closeConnection()
	e.token.clear("Not logged in")
	e.types.set(nil)
	e.matrixBtn.Disable()
	e.logBtn.Disable()
	e.login.hide()
	e.browser.setSource(nil, nil)
	p, err := e.ws.Store.Get(name)
	if err != nil {
		e.setProfileButtons(nil)
		e.setStatus(err.Error(), widget.DangerImportance)
		return
	}
	e.setProfileButtons(&p)
	if warns := p.Warnings(); len(warns) > 0 {
		e.profileWarn.SetText("⚠ " + strings.Join(warns, "\n⚠ "))
		e.profileWarn.Show()
	} else {
		e.profileWarn.Hide()
	}
	c := &connection{profile: p}
	c.ctx, c.cancel = context.WithCancel(e.ctx)
	e.conn = c
	where := p.BaseURL
	if p.IsSandbox() {
		where = "the built-in sandbox"
	}
	e.setStatus("Connecting to "+where+"…", widget.MediumImportance)
	go e.resolve(c)
}

// resolve prepares the connection and then restores the saved session,
// logs in by itself when no user is needed, or offers to log in.
func (e *Explorer) resolve(c *connection) {
	t, err := e.ws.Resolve(c.ctx, c.profile)
	if err != nil {
		e.doFor(c, func() {
			e.setStatus("Could not connect with profile "+c.profile.Name+": "+err.Error(), widget.DangerImportance)
			e.login.showFailed(err)
			call(e.onLoginState)
		})
		return
	}
	if c.profile.IsSandbox() {
		e.opts.Logf("built-in sandbox serving FHIR at %s", t.BaseURL)
	}
	sess, restoreErr := e.ws.Restore(c.ctx, t)
	e.doFor(c, func() {
		c.target = t
		e.logBtn.Enable()
		switch {
		case restoreErr == nil:
			e.startSession(c, sess, "Session restored from the keyring")
		case c.profile.Grant == profile.GrantNone:
			e.startSession(c, nil, "Open server: no log-in")
		case c.profile.Grant == profile.GrantClientCredentials:
			e.onLogin() // no user needed
		default:
			e.setStatus("Not logged in.", widget.MediumImportance)
			e.login.showReady(c.profile)
			call(e.onLoginState)
		}
	})
}

// onLogin runs the profile's grant on a worker. Authorization code shows
// "Waiting for the browser…" with the URL and Cancel.
func (e *Explorer) onLogin() {
	c := e.conn
	if c == nil || c.target == nil {
		return
	}
	if c.profile.Grant == profile.GrantPassword {
		e.askPasswordThenLogin(c)
		return
	}
	e.startLogin(c, connect.LoginOptions{})
}

func (e *Explorer) startLogin(c *connection, o connect.LoginOptions) {
	if c.loginCancel != nil {
		c.loginCancel()
	}
	ctx, cancel := context.WithTimeout(c.ctx, auth.DefaultLoginTimeout)
	c.loginCancel = cancel
	if c.profile.Grant == profile.GrantAuthorizationCode {
		e.login.showWaiting("")
		opener := e.opts.OpenBrowser
		if opener == nil {
			opener = auth.OpenSystemBrowser
		}
		o.OpenBrowser = func(ctx context.Context, u string) error {
			e.doFor(c, func() { e.login.showWaiting(u); call(e.onLoginState) })
			if err := opener(ctx, u); err != nil {
				// No browser: the user copies the URL; keep waiting.
				e.opts.Logf("could not open the browser: %v", err)
			}
			return nil
		}
	} else {
		e.login.showWorking("Logging in as " + c.profile.ClientID + "…")
	}
	call(e.onLoginState)
	e.setStatus("Logging in…", widget.MediumImportance)
	go func() {
		defer cancel()
		sess, saveErr, err := e.ws.Login(ctx, c.target, o)
		e.doFor(c, func() {
			c.loginCancel = nil
			if err != nil {
				e.opts.Logf("log-in failed: %v", err)
				e.setStatus("Not logged in.", widget.MediumImportance)
				e.login.showFailed(err)
				call(e.onLoginState)
				return
			}
			e.startSession(c, sess, "Logged in")
			if saveErr != nil {
				e.setStatus("Logged in, but the session will not be remembered: "+saveErr.Error(), widget.WarningImportance)
			}
		})
	}()
}

func (e *Explorer) onCancelLogin() {
	if c := e.conn; c != nil && c.loginCancel != nil {
		c.loginCancel()
	}
}

// askPasswordThenLogin asks for the password grant's password (unless the
// keyring remembers it).
func (e *Explorer) askPasswordThenLogin(c *connection) {
	if c.profile.RememberPassword {
		go func() {
			pw, err := e.ws.Secrets.Get(c.profile.Name, profile.SecretPassword)
			e.doFor(c, func() {
				if err == nil && pw != "" {
					e.startLogin(c, connect.LoginOptions{Password: pw})
					return
				}
				e.showPasswordForm(c)
			})
		}()
		return
	}
	e.showPasswordForm(c)
}

func (e *Explorer) showPasswordForm(c *connection) {
	pw := widget.NewPasswordEntry()
	items := []*widget.FormItem{
		widget.NewFormItem("User", widget.NewLabel(c.profile.Username)),
		widget.NewFormItem("Password", pw),
	}
	dialog.ShowForm(auth.PasswordGrantLabel, "Log in", "Cancel", items, func(ok bool) {
		if ok && e.conn == c {
			e.startLogin(c, connect.LoginOptions{Password: pw.Text})
		}
	}, e.win)
}

// startSession shows a session (nil for an open server), subscribes to its
// events and loads the server's resource types.
func (e *Explorer) startSession(c *connection, sess *auth.Session, how string) {
	c.session = sess
	c.client = c.target.FHIR(sess)
	e.login.hide()
	call(e.onLoginState)
	if sess != nil {
		granted, source := sess.GrantedScopes()
		e.opts.Logf("%s: %s; granted scopes: %s (%s)", how, c.profile.Name, strings.Join(granted, " "), source)
		e.token.show(sess.Info(), sess.TimeLeft())
		c.unsub = sess.Subscribe(func(ev auth.Event) {
			e.doFor(c, func() { e.onSessionEvent(c, ev) })
		})
	} else {
		e.token.clear("Open server (no token)")
	}
	e.setStatus(how+". Reading the server's capabilities…", widget.MediumImportance)
	go e.loadCapabilities(c)
}

func (e *Explorer) onSessionEvent(c *connection, ev auth.Event) {
	e.opts.Logf("session: %s: %s", ev.Kind, ev.Message)
	if c.session != nil {
		e.token.show(c.session.Info(), c.session.TimeLeft())
		if ev.Kind == auth.EventRenewed {
			go func() { _ = e.ws.SaveSession(c.target, c.session) }()
		}
	}
	switch ev.Kind {
	case auth.EventRenewalFailed:
		e.setStatus("Renewing the token failed: "+ev.Message, widget.DangerImportance)
	case auth.EventExpired:
		e.setStatus("The token has expired. "+ev.Message, widget.WarningImportance)
	case auth.EventExpiringSoon:
		e.setStatus(ev.Message, widget.WarningImportance)
	case auth.EventRenewed:
		e.setStatus("Token renewed.", widget.MediumImportance)
	}
}

// loadCapabilities reads the CapabilityStatement and lists the Care
// Connect types it names, each with what the token may do.
func (e *Explorer) loadCapabilities(c *connection) {
	caps, err := c.client.Capabilities(c.ctx)
	if err != nil {
		e.doFor(c, func() {
			e.setStatus("The server's CapabilityStatement could not be read: "+err.Error(), widget.DangerImportance)
		})
		return
	}
	types := careConnectTypesIn(caps.ResourceTypes())
	access := c.target.Access(c.session, types)
	e.doFor(c, func() {
		c.caps = caps
		e.types.set(access)
		e.matrixBtn.Enable()
		e.browser.setSource(c.client, caps)
		readable := 0
		for _, a := range access {
			if a.Readability != auth.NotReadable {
				readable++
			}
		}
		e.setStatus(fmt.Sprintf("%s: FHIR %s, %d Care Connect types, %d readable with this token (policy: %s — %s).",
			c.profile.Name, caps.FHIRVersion, len(types), readable, c.target.Policy, c.target.PolicyWhy), widget.MediumImportance)
		if a, ok := e.types.get("Patient"); ok && a.Readability != auth.NotReadable {
			e.chooseType(a)
		}
		call(func() {
			if e.onConnected != nil {
				e.onConnected(c)
			}
		})
	})
}

// releaseStartupMemory hands the heap that starting up (sandbox data,
// discovery, fonts, the first search) left behind back to the OS, once,
// shortly after the first successful answer: the window then idles at what
// it really uses (see docs/PERFORMANCE.md, idle memory).
func (e *Explorer) releaseStartupMemory() {
	if e.released {
		return
	}
	e.released = true
	go func() {
		select {
		case <-time.After(500 * time.Millisecond):
			debug.FreeOSMemory()
		case <-e.ctx.Done():
		}
	}()
}

// chooseType opens a type: a search for a readable one, the explanation
// for a greyed one.
func (e *Explorer) chooseType(a auth.Access) {
	c := e.conn
	if c == nil {
		return
	}
	if a.Readability == auth.NotReadable {
		why := ""
		if c.target != nil {
			why = c.target.PolicyWhy
		}
		e.browser.explain(a.Type, explanation(a, why))
		return
	}
	e.browser.openType(a.Type)
}

// onServerAnswer records what the server really did for a type: the
// server's answer wins over the prediction from the scopes.
func (e *Explorer) onServerAnswer(resourceType string, status int, err error) {
	a, ok := e.types.get(resourceType)
	if !ok {
		return
	}
	msg := ""
	var he *fhirclient.HTTPError
	if errors.As(err, &he) {
		msg = strings.Join(he.Issues, "; ")
	}
	if status == 200 {
		e.releaseStartupMemory() // the first result is on its way to the screen
	}
	updated := a.WithServerMessage(status, msg)
	if updated.Finding != a.Finding || updated.Readability != a.Readability {
		e.opts.Logf("%s: %s", resourceType, updated.Reason)
	}
	e.types.updateOne(updated)
}

func (e *Explorer) onRenew() {
	c := e.conn
	if c == nil || c.session == nil {
		return
	}
	e.setStatus("Renewing the token…", widget.MediumImportance)
	sess := c.session
	go func() {
		ctx, cancel := context.WithTimeout(c.ctx, time.Minute)
		defer cancel()
		err := sess.Renew(ctx)
		e.doFor(c, func() {
			if err != nil {
				e.setStatus("Renewing the token failed: "+err.Error(), widget.DangerImportance)
			}
			e.token.show(sess.Info(), sess.TimeLeft())
		})
	}()
}

func (e *Explorer) onAutoRenew(on bool) {
	if c := e.conn; c != nil && c.session != nil {
		c.session.SetAutoRenew(on)
	}
}

func (e *Explorer) onCopyToken() {
	if tok := e.currentToken(); tok != "" {
		e.app.Clipboard().SetContent(tok)
		e.setStatus("The access token is on the clipboard. Treat it like a password.", widget.WarningImportance)
	}
}

// currentToken returns the current access token, for "Copy token" and
// "Copy as curl" with the token; "" without a session.
func (e *Explorer) currentToken() string {
	if c := e.conn; c != nil && c.session != nil {
		return c.session.Current().AccessToken
	}
	return ""
}

// onLogout revokes the token where possible and forgets the session.
func (e *Explorer) onLogout() {
	c := e.conn
	if c == nil || c.session == nil {
		return
	}
	sess := c.session
	if c.unsub != nil {
		c.unsub()
		c.unsub = nil
	}
	c.session = nil
	e.token.clear("Logging out…")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := e.ws.Logout(ctx, c.target, sess)
		e.doFor(c, func() {
			e.token.clear("Logged out")
			e.types.set(nil)
			e.browser.setSource(nil, nil)
			e.matrixBtn.Disable()
			if err != nil {
				e.setStatus("Logged out, but: "+err.Error(), widget.WarningImportance)
			} else {
				e.setStatus("Logged out.", widget.MediumImportance)
			}
			e.login.showReady(c.profile)
			call(e.onLoginState)
		})
	}()
}

// tick drives the countdown and the session's renewal once a second.
func (e *Explorer) tick() {
	ticks := e.opts.Ticks
	if ticks == nil {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		ticks = t.C
	}
	var current *connection
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-ticks:
		}
		ch := make(chan *connection, 1)
		e.do(func() { ch <- e.conn })
		select {
		case current = <-ch:
		case <-e.ctx.Done():
			return
		}
		if current == nil || current.session == nil {
			continue
		}
		c, sess := current, current.session
		sess.Tick(c.ctx) // renews when due (network, on this goroutine)
		left := sess.TimeLeft()
		e.doFor(c, func() {
			if c.session == sess {
				e.token.tick(left)
			}
		})
	}
}

func (e *Explorer) onAccessMatrix() {
	c := e.conn
	if c == nil || c.target == nil {
		return
	}
	var granted []string
	if c.session != nil {
		granted, _ = c.session.GrantedScopes()
	}
	var types []string
	for _, a := range e.types.items {
		types = append(types, a.Type)
	}
	showAccessMatrix(e.win, c.target.Policy, granted, types)
}

func (e *Explorer) onOpenFile() {
	dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		_ = r.Close()
		e.browser.openFile(path)
	}, e.win)
}

func (e *Explorer) onAbout() {
	v := e.opts.Version
	if v == "" {
		v = "dev"
	}
	dialog.ShowInformation("About Care Connect Explorer",
		"Care Connect Explorer "+v+"\n\nExplore OAuth2-secured FHIR servers such as the NHS Care Connect Reference Implementation.\nConfiguration: "+e.configPath(), e.win)
}

func (e *Explorer) configPath() string {
	if e.ws != nil {
		return e.ws.Store.Path()
	}
	return "(not opened)"
}

// exportFileName is the file name suggested for exported profiles.
const exportFileName = "ccexplorer-profiles.json"
