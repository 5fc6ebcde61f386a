package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/connect"
	"github.com/careconnectexplorer/ccexplorer/profile"
	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

// The goldens under testdata/ are the markup of each screen state. A
// failing comparison writes the new markup to testdata/failed/.

func TestTokenPanelStates(t *testing.T) {
	test.NewTempApp(t)
	exp := time.Date(2026, 11, 29, 11, 0, 0, 0, time.UTC)
	info := auth.TokenInfo{
		Granted: []string{"user/Patient.read", "user/Observation.read"}, ScopeSource: auth.ScopesFromResponse,
		ExpiresAt: exp, CanRenew: true, AutoRenew: true, Renewal: "by asking again (client credentials)",
	}
	tests := []struct {
		golden string
		info   auth.TokenInfo
		left   time.Duration
	}{
		{"token/normal.xml", info, 42*time.Minute + 7*time.Second},
		{"token/expiring.xml", info, 4*time.Minute + 59*time.Second},
		{"token/expired.xml", info, 0},
		{"token/assumed.xml", auth.TokenInfo{Granted: []string{"user/*.read"}, ScopeSource: auth.ScopesRequested}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			w := test.NewTempWindow(t, nil)
			p := newTokenPanel(w)
			w.SetContent(p.object())
			w.Resize(fyne.NewSize(1100, 60))
			p.show(tt.info, tt.left)
			test.AssertRendersToMarkup(t, tt.golden, w.Canvas())
		})
	}
	t.Run("not logged in", func(t *testing.T) {
		w := test.NewTempWindow(t, nil)
		p := newTokenPanel(w)
		w.SetContent(p.object())
		w.Resize(fyne.NewSize(1100, 60))
		if !p.renew.Disabled() || !p.logout.Disabled() || !p.copyTok.Disabled() {
			t.Error("session buttons are enabled with no session")
		}
	})
}

// The sidebar for each of the CCRI's demo clients under the CCRI policy:
// greyed exactly as the access table says.
func TestTypesListGreyedForCCRIDemoClients(t *testing.T) {
	test.NewTempApp(t)
	types := []string{"Patient", "Organization", "Encounter", "Condition", "Procedure", "Observation",
		"MedicationRequest", "MedicationStatement", "Immunization", "DocumentReference", "Binary"}
	clients := map[string][]string{
		"medication-access": {"user/Patient.read", "user/Bundle.read", "user/*.read"},
		"patient-access":    {"profile", "patient/Patient.read", "user/Patient.read"},
		"clinical-access": {"profile", "user/MedicationStatement.read", "patient/MedicationStatement.read",
			"user/Immunization.read", "patient/Immunization.read", "user/Patient.read", "patient/Patient.read",
			"user/Condition.read", "patient/Condition.read", "user/MedicationRequest.read", "patient/MedicationRequest.read",
			"user/Encounter.read", "patient/Encounter.read", "user/Observation.read", "patient/Observation.read"},
		"limited-access": {"profile"},
	}
	for name, scopes := range clients {
		t.Run(name, func(t *testing.T) {
			w := test.NewTempWindow(t, nil)
			tl := newTypesList()
			w.SetContent(tl.list)
			w.Resize(fyne.NewSize(340, 860))
			tl.set(auth.CheckAccess(auth.PolicyCCRI, scopes, types))
			test.AssertRendersToMarkup(t, "types/"+name+".xml", w.Canvas())
		})
	}
}

func TestProfileEditorShowsErrorsBesideFields(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	ed := newProfileEditor(w, &connect.Workspace{}, profile.Profile{Grant: profile.GrantClientCredentials}, true)
	w.SetContent(ed.content)
	w.Resize(fyne.NewSize(760, 900))
	test.Type(ed.name, "Supplier test")
	test.Type(ed.base, "http://fhir.supplier.example/STU3")
	test.Type(ed.tokenURL, "not a url")
	ed.onSave() // invalid: nothing is saved, so no Store is needed
	if ed.errs[profile.FieldBaseURL].Hidden || ed.errs[profile.FieldClientID].Hidden || ed.errs[profile.FieldTokenURL].Hidden {
		t.Errorf("errors shown: base %q, client %q, token %q", ed.errs[profile.FieldBaseURL].Text,
			ed.errs[profile.FieldClientID].Text, ed.errs[profile.FieldTokenURL].Text)
	}
	if !ed.errs[profile.FieldName].Hidden {
		t.Errorf("the valid name has an error: %q", ed.errs[profile.FieldName].Text)
	}
	test.AssertRendersToMarkup(t, "profile/editor_errors.xml", w.Canvas())
}

func TestLoginPanelStates(t *testing.T) {
	test.NewTempApp(t)
	p := profile.Profile{Name: "CCRI test — browser", Grant: profile.GrantAuthorizationCode}
	tests := []struct {
		golden string
		show   func(l *loginPanel)
	}{
		{"login/ready.xml", func(l *loginPanel) { l.showReady(p) }},
		{"login/waiting.xml", func(l *loginPanel) {
			l.showWaiting("https://auth.example/oauth/authorize?client_id=ccexplorer-desktop&code_challenge=abc&code_challenge_method=S256&response_type=code&state=xyz")
		}},
		{"login/failed_client.xml", func(l *loginPanel) {
			l.showFailed(&auth.TokenError{Status: 401, Code: "invalid_client", Description: "Bad client credentials"})
		}},
		{"login/failed_denied.xml", func(l *loginPanel) {
			l.showFailed(&auth.AuthorizationError{Code: "access_denied", Description: "The user denied the request"})
		}},
		{"login/cancelled.xml", func(l *loginPanel) { l.showFailed(auth.ErrCancelled) }},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			w := test.NewTempWindow(t, nil)
			l := newLoginPanel(w)
			w.SetContent(l.object())
			w.Resize(fyne.NewSize(800, 220))
			tt.show(l)
			test.AssertRendersToMarkup(t, tt.golden, w.Canvas())
		})
	}
	if title, _ := loginFailure(errors.Join(errors.New("x"), auth.ErrTimedOut)); title != "The browser did not come back in time" {
		t.Errorf("timeout title = %q", title)
	}
}

// Discover and Test connection in the profile editor, against a real
// sandbox that advertises its endpoints only in its CapabilityStatement
// (like the CCRI).
func TestProfileEditorDiscoversAndTests(t *testing.T) {
	srv, err := sandbox.Start(sandbox.Config{Addr: "127.0.0.1:0", NoWellKnown: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	ed := newProfileEditor(w, &connect.Workspace{}, profile.Profile{Grant: profile.GrantClientCredentials}, true)
	done := make(chan struct{}, 1)
	ed.done = func() { done <- struct{}{} }
	w.SetContent(ed.content)
	onUI(func() {
		test.Type(ed.base, srv.FHIRBase())
		test.Tap(ed.discover)
	})
	waitFor(t, done, "discovery")
	var report, tokenURL string
	onUI(func() { report, tokenURL = ed.report.Text, ed.tokenURL.Text })
	if tokenURL != srv.Info().TokenEndpoint {
		t.Errorf("token URL filled with %q, want %q", tokenURL, srv.Info().TokenEndpoint)
	}
	if !strings.Contains(report, "1. ") || !strings.Contains(report, "FHIR 3.0.1") {
		t.Errorf("report = %q", report)
	}
	onUI(func() { test.Tap(ed.test) })
	waitFor(t, done, "the connection test")
	onUI(func() { report = ed.report.Text })
	if !strings.HasPrefix(report, "Connected: FHIR 3.0.1") {
		t.Errorf("test connection report = %q", report)
	}
}
