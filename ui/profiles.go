package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/connect"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
	"github.com/careconnectexplorer/ccexplorer/profile"
)

// Choices offered by the profile editor, with the words shown for them.
var (
	grantChoices = []string{
		"None (open server)", "Client credentials", "Authorization code + PKCE (browser)", "Password (legacy servers only)",
	}
	grantValues      = []profile.Grant{profile.GrantNone, profile.GrantClientCredentials, profile.GrantAuthorizationCode, profile.GrantPassword}
	clientAuthChoice = []string{"HTTP Basic (client_secret_basic)", "In the body (client_secret_post)"}
	clientAuthValues = []profile.ClientAuth{profile.ClientAuthBasic, profile.ClientAuthBody}
	policyChoices    = []string{"Auto (CCRI when the server looks like it)", "SMART App Launch scopes", "CCRI security guide"}
	policyValues     = []profile.Policy{profile.PolicyAuto, profile.PolicySMART, profile.PolicyCCRI}
)

// profileEditor is the form that adds or edits a profile. Each field has
// its own error line, filled from the profile's validation.
type profileEditor struct {
	win fyne.Window
	ws  *connect.Workspace

	original profile.Profile
	isNew    bool

	name, base, clientID, secret, scopes            *widget.Entry
	authorizeURL, tokenURL, revokeURL, redirectPort *widget.Entry
	audience, caFile, username, notes               *widget.Entry
	grant, clientAuth, policy                       *widget.Select
	allowHTTP, rememberPassword                     *widget.Check
	errs                                            map[string]*widget.Label
	report                                          *widget.Label
	discover, test, save                            *widget.Button

	content fyne.CanvasObject
	dlg     dialog.Dialog
	// onSaved is called on the Fyne goroutine after a successful save.
	onSaved func(name string)
	// done is called on the Fyne goroutine when background work (save,
	// discover, test) has finished; tests wait on it.
	done func()
}

func newProfileEditor(win fyne.Window, ws *connect.Workspace, p profile.Profile, isNew bool) *profileEditor {
	ed := &profileEditor{win: win, ws: ws, original: p, isNew: isNew, errs: map[string]*widget.Label{}}
	entry := func(text, placeholder string) *widget.Entry {
		e := widget.NewEntry()
		e.SetPlaceHolder(placeholder)
		e.SetText(text)
		return e
	}
	ed.name = entry(p.Name, "e.g. CCRI test — clinical-access")
	ed.base = entry(p.BaseURL, "https://server.example/ccri-fhir/STU3")
	ed.clientID = entry(p.ClientID, "the OAuth2 client id")
	ed.secret = widget.NewPasswordEntry()
	ed.secret.SetPlaceHolder("kept in the system keyring; leave empty to keep the stored one")
	ed.scopes = entry(strings.Join(p.Scopes, " "), "e.g. user/Patient.read user/Observation.read (empty: all the client has)")
	ed.authorizeURL = entry(p.AuthorizeURL, "discovered when empty")
	ed.tokenURL = entry(p.TokenURL, "discovered when empty")
	ed.revokeURL = entry(p.RevokeURL, "discovered when empty")
	port := ""
	if p.RedirectPort != 0 {
		port = strconv.Itoa(p.RedirectPort)
	}
	ed.redirectPort = entry(port, "any free port")
	ed.audience = entry(p.Audience, "aud / resource parameter, when the server needs one")
	ed.caFile = entry(p.CACertFile, "PEM file with extra trusted CA certificates")
	ed.username = entry(p.Username, "for the password grant")
	ed.notes = widget.NewMultiLineEntry()
	ed.notes.SetText(p.Notes)
	ed.notes.SetMinRowsVisible(2)
	ed.grant = widget.NewSelect(grantChoices, nil)
	ed.grant.SetSelectedIndex(indexOr(grantValues, p.Grant, 1))
	ed.clientAuth = widget.NewSelect(clientAuthChoice, nil)
	ed.clientAuth.SetSelectedIndex(indexOr(clientAuthValues, p.ClientAuth, 0))
	ed.policy = widget.NewSelect(policyChoices, nil)
	ed.policy.SetSelectedIndex(indexOr(policyValues, p.Policy, 0))
	ed.allowHTTP = widget.NewCheck("Allow plain http to a host that is not this computer (unsafe)", nil)
	ed.allowHTTP.SetChecked(p.AllowInsecureHTTP)
	ed.rememberPassword = widget.NewCheck("Remember the password in the keyring", nil)
	ed.rememberPassword.SetChecked(p.RememberPassword)
	ed.report = widget.NewLabel("")
	ed.report.Wrapping = fyne.TextWrapWord
	ed.discover = widget.NewButton("Discover endpoints", ed.onDiscover)
	ed.test = widget.NewButton("Test connection", ed.onTest)
	ed.save = widget.NewButton("Save", ed.onSave)
	ed.save.Importance = widget.HighImportance

	rows := container.New(&formLayout{})
	add := func(label, field string, w fyne.CanvasObject) {
		errLabel := widget.NewLabel("")
		errLabel.Importance = widget.DangerImportance
		errLabel.Wrapping = fyne.TextWrapWord
		errLabel.Hide()
		if field != "" {
			ed.errs[field] = errLabel
		}
		rows.Add(widget.NewLabelWithStyle(label, fyne.TextAlignTrailing, fyne.TextStyle{}))
		rows.Add(container.NewVBox(w, errLabel))
	}
	add("Name", profile.FieldName, ed.name)
	add("FHIR base URL", profile.FieldBaseURL, container.NewVBox(ed.base, ed.allowHTTP))
	add("Grant", profile.FieldGrant, ed.grant)
	add("Client ID", profile.FieldClientID, ed.clientID)
	add("Client secret", "", ed.secret)
	add("Client authentication", profile.FieldClientAuth, ed.clientAuth)
	add("Scopes", profile.FieldScopes, ed.scopes)
	add("Username", profile.FieldUsername, container.NewVBox(ed.username, ed.rememberPassword))
	add("Access policy", profile.FieldPolicy, ed.policy)
	add("Authorize URL", profile.FieldAuthorizeURL, ed.authorizeURL)
	add("Token URL", profile.FieldTokenURL, ed.tokenURL)
	add("Revoke URL", profile.FieldRevokeURL, ed.revokeURL)
	add("Redirect port", profile.FieldRedirectPort, ed.redirectPort)
	add("Audience", profile.FieldAudience, ed.audience)
	add("Extra CA file", profile.FieldCACertFile, ed.caFile)
	add("Notes", "", ed.notes)
	ed.errs[""] = widget.NewLabel("") // problems not tied to a field
	ed.errs[""].Importance = widget.DangerImportance
	ed.errs[""].Wrapping = fyne.TextWrapWord
	ed.errs[""].Hide()

	buttons := container.NewHBox(ed.discover, ed.test)
	ed.content = container.NewBorder(nil,
		container.NewVBox(ed.errs[""], ed.report, buttons),
		nil, nil, container.NewVScroll(rows))
	if p.Builtin {
		ed.lockBuiltin()
	}
	ed.updateEnabled()
	ed.grant.OnChanged = func(string) { ed.updateEnabled() }
	return ed
}

func indexOr[T comparable](values []T, v T, fallback int) int {
	for i, x := range values {
		if x == v {
			return i
		}
	}
	return fallback
}

// lockBuiltin leaves only the notes editable: the built-in sandbox
// profiles are fixed.
func (ed *profileEditor) lockBuiltin() {
	for _, e := range []*widget.Entry{ed.name, ed.base, ed.clientID, ed.secret, ed.scopes, ed.authorizeURL, ed.tokenURL, ed.revokeURL, ed.redirectPort, ed.audience, ed.caFile, ed.username} {
		e.Disable()
	}
	for _, s := range []*widget.Select{ed.grant, ed.clientAuth, ed.policy} {
		s.Disable()
	}
	ed.allowHTTP.Disable()
	ed.rememberPassword.Disable()
	ed.report.SetText("A built-in sandbox profile: only its notes can change. Duplicate it to make one of your own.")
}

// updateEnabled enables the fields that matter for the chosen grant.
func (ed *profileEditor) updateEnabled() {
	if ed.original.Builtin {
		return
	}
	g := ed.grantValue()
	setEnabled := func(on bool, ws ...fyne.Disableable) {
		for _, w := range ws {
			if on {
				w.Enable()
			} else {
				w.Disable()
			}
		}
	}
	setEnabled(g != profile.GrantNone, ed.clientID, ed.secret, ed.scopes, ed.clientAuth, ed.tokenURL, ed.revokeURL, ed.audience)
	setEnabled(g == profile.GrantAuthorizationCode, ed.authorizeURL, ed.redirectPort)
	setEnabled(g == profile.GrantPassword, ed.username, ed.rememberPassword)
}

func (ed *profileEditor) grantValue() profile.Grant {
	i := ed.grant.SelectedIndex()
	if i < 0 {
		return profile.GrantNone
	}
	return grantValues[i]
}

// profile returns the profile the form describes (not validated).
func (ed *profileEditor) profile() profile.Profile {
	p := ed.original
	p.Name = strings.TrimSpace(ed.name.Text)
	p.BaseURL = strings.TrimSpace(ed.base.Text)
	p.Grant = ed.grantValue()
	p.ClientID = strings.TrimSpace(ed.clientID.Text)
	if i := ed.clientAuth.SelectedIndex(); i >= 0 {
		p.ClientAuth = clientAuthValues[i]
	}
	p.Scopes = strings.Fields(ed.scopes.Text)
	p.AuthorizeURL = strings.TrimSpace(ed.authorizeURL.Text)
	p.TokenURL = strings.TrimSpace(ed.tokenURL.Text)
	p.RevokeURL = strings.TrimSpace(ed.revokeURL.Text)
	p.RedirectPort = 0
	if s := strings.TrimSpace(ed.redirectPort.Text); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			n = -1 // Validate reports it
		}
		p.RedirectPort = n
	}
	p.Audience = strings.TrimSpace(ed.audience.Text)
	if i := ed.policy.SelectedIndex(); i >= 0 {
		p.Policy = policyValues[i]
	}
	p.CACertFile = strings.TrimSpace(ed.caFile.Text)
	p.Username = strings.TrimSpace(ed.username.Text)
	p.RememberPassword = ed.rememberPassword.Checked
	p.AllowInsecureHTTP = ed.allowHTTP.Checked
	p.Notes = ed.notes.Text
	return p
}

// showProblems puts each validation problem under its field; it returns
// whether there were any.
func (ed *profileEditor) showProblems(err error) bool {
	for _, l := range ed.errs {
		l.SetText("")
		l.Hide()
	}
	if err == nil {
		return false
	}
	var ve *profile.ValidationError
	if !errors.As(err, &ve) {
		ed.errs[""].SetText(err.Error())
		ed.errs[""].Show()
		return true
	}
	for _, fe := range ve.Problems {
		l, ok := ed.errs[fe.Field]
		if !ok {
			l = ed.errs[""]
		}
		if l.Text != "" {
			l.SetText(l.Text + "\n" + fe.Message)
		} else {
			l.SetText(fe.Message)
		}
		l.Show()
	}
	ed.content.Refresh()
	return true
}

func (ed *profileEditor) onSave() {
	p := ed.profile()
	if p.RedirectPort < 0 {
		ed.showProblems(&profile.ValidationError{Profile: p.Name, Problems: []profile.FieldError{{Field: profile.FieldRedirectPort, Message: "the redirect port must be a number from 1 to 65535"}}})
		return
	}
	if ed.showProblems(p.Validate()) {
		return
	}
	secret := ed.secret.Text
	ed.save.Disable()
	ed.report.SetText("Saving…")
	go func() {
		var err error
		if ed.isNew {
			err = ed.ws.Store.Add(p)
		} else {
			err = ed.ws.Store.Replace(ed.original, p)
		}
		var keyringErr error
		if err == nil && secret != "" && !p.Builtin {
			keyringErr = ed.ws.Secrets.Set(p.Name, profile.SecretClientSecret, secret)
		}
		runOnUI(func() {
			defer call(ed.done)
			ed.save.Enable()
			if err != nil {
				ed.report.SetText("")
				ed.showProblems(fmt.Errorf("not saved: %w", err))
				return
			}
			if keyringErr != nil {
				dialog.ShowError(fmt.Errorf("the profile was saved, but its client secret could not be stored in the keyring: %w", keyringErr), ed.win)
			}
			if ed.dlg != nil {
				ed.dlg.Hide()
			}
			call(func() {
				if ed.onSaved != nil {
					ed.onSaved(p.Name)
				}
			})
		})
	}()
}

// check runs a connection check of the profile in the form on a worker:
// button is disabled meanwhile, report says what is happening, and work's
// result (run on the Fyne goroutine) shows the answer.
func (ed *profileEditor) check(button *widget.Button, doing string, work func(ctx context.Context, p profile.Profile, hc *http.Client) func()) {
	p := ed.profile()
	if p.IsSandbox() {
		return
	}
	ed.report.SetText(doing)
	button.Disable()
	go func() {
		// HTTPClient reads the profile's CA file: file I/O, so here.
		hc, err := connect.HTTPClient(p)
		show := func() { ed.report.SetText(""); ed.showProblems(err) }
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			show = work(ctx, p, hc)
		}
		runOnUI(func() {
			defer call(ed.done)
			button.Enable()
			show()
		})
	}()
}

// onDiscover runs the discovery chain for the base URL and shows its
// step-by-step report; the endpoints found fill empty override fields.
func (ed *profileEditor) onDiscover() {
	ed.check(ed.discover, "Discovering "+strings.TrimSpace(ed.base.Text)+" …", func(ctx context.Context, p profile.Profile, hc *http.Client) func() {
		d, err := auth.Discover(ctx, hc, p.BaseURL)
		return func() {
			ed.report.SetText(discoveryReport(d, err))
			if d == nil {
				return
			}
			fill := func(e *widget.Entry, v string) {
				if strings.TrimSpace(e.Text) == "" && v != "" && !e.Disabled() {
					e.SetText(v)
				}
			}
			fill(ed.tokenURL, d.TokenEndpoint)
			fill(ed.authorizeURL, d.AuthorizationEndpoint)
			fill(ed.revokeURL, d.RevocationEndpoint)
		}
	})
}

// discoveryReport is the discovery chain's steps in words.
func discoveryReport(d *auth.Discovery, err error) string {
	var b strings.Builder
	if d != nil {
		for i, s := range d.Steps {
			fmt.Fprintf(&b, "%d. %s\n", i+1, s.String())
		}
		if d.TokenEndpoint != "" {
			fmt.Fprintf(&b, "Token endpoint: %s\n", d.TokenEndpoint)
		}
		if d.AuthorizationEndpoint != "" {
			fmt.Fprintf(&b, "Authorize endpoint: %s\n", d.AuthorizationEndpoint)
		}
		if d.FHIRVersion != "" {
			fmt.Fprintf(&b, "FHIR %s (%s)", d.FHIRVersion, d.FHIRRelease)
		}
	}
	if err != nil {
		fmt.Fprintf(&b, "\nDiscovery failed: %v", err)
	}
	return strings.TrimSpace(b.String())
}

// onTest reads the CapabilityStatement and shows the FHIR version and the
// server's software.
func (ed *profileEditor) onTest() {
	ed.check(ed.test, "Reading "+strings.TrimSpace(ed.base.Text)+"/metadata …", func(ctx context.Context, p profile.Profile, hc *http.Client) func() {
		caps, err := fhirclient.New(p.BaseURL, hc).Capabilities(ctx)
		return func() {
			if err != nil {
				ed.report.SetText("The connection test failed: " + err.Error())
				return
			}
			ed.report.SetText(capabilitySummary(caps))
		}
	})
}

func capabilitySummary(c *fhirclient.Capabilities) string {
	s := "Connected: FHIR " + c.FHIRVersion
	if c.Software.Name != "" {
		s += ", " + strings.TrimSpace(c.Software.Name+" "+c.Software.Version)
	}
	if c.Implementation.Description != "" {
		s += " — " + c.Implementation.Description
	}
	return fmt.Sprintf("%s; %d resource types.", s, len(c.Resources))
}

// show opens the editor in a dialog.
func (ed *profileEditor) show() {
	title := "Edit profile"
	if ed.isNew {
		title = "New profile"
	}
	ed.dlg = dialog.NewCustomWithoutButtons(title, container.NewBorder(nil,
		container.NewHBox(layoutSpacer(), widget.NewButton("Cancel", func() { ed.dlg.Hide() }), ed.save),
		nil, nil, ed.content), ed.win)
	ed.dlg.Resize(fyne.NewSize(760, 640))
	ed.dlg.Show()
}

// readFile reads a file the user picked, bounded to a sane size.
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d MB, more than the %d MB this can open", path, st.Size()>>20, limit>>20)
	}
	buf := make([]byte, st.Size())
	_, err = f.ReadAt(buf, 0)
	if err != nil && st.Size() > 0 {
		return nil, err
	}
	return buf, nil
}
