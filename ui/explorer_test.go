package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/profile"
	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

// hangGuard bounds waits for background work; it is a guard against a hang,
// not a speed check.
const hangGuard = 2 * time.Minute

// newTestExplorer opens the window on a fresh config folder with an
// in-memory keyring and a countdown that only ticks when the test says so.
func newTestExplorer(t *testing.T, hooks func(e *Explorer)) *Explorer {
	t.Helper()
	a := test.NewTempApp(t)
	opts := Options{
		ConfigDir:      t.TempDir(),
		KeyringBackend: profile.BackendMemory,
		Ticks:          make(chan time.Time),
		Logf:           func(string, ...any) {},
	}
	e := newExplorerWithHooks(a, opts, hooks)
	t.Cleanup(e.Close)
	return e
}

// onUI runs fn as if on the Fyne goroutine: serialised with the work the
// app's goroutines hand to it (see uiMu).
func onUI(fn func()) {
	uiMu.Lock()
	defer uiMu.Unlock()
	fn()
}

// waitFor waits for a signal from a hook.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(hangGuard):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func signal(ch chan struct{}) func() {
	return func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func TestExplorerConnectsToBuiltinSandboxOnFirstStart(t *testing.T) {
	connected := make(chan struct{}, 1)
	e := newTestExplorer(t, func(e *Explorer) {
		e.onConnected = func(*connection) { signal(connected)() }
	})
	waitFor(t, connected, "the built-in sandbox connection")

	var (
		profileName string
		scopes      []string
		countdown   string
		types       []auth.Access
		status      string
	)
	onUI(func() {
		profileName = e.profileSelect.Selected
		scopes = e.token.info.Granted
		countdown = e.token.countdown.Text
		types = append(types, e.types.items...)
		status = e.status.Text
	})
	if profileName != profile.DefaultProfileName {
		t.Errorf("selected profile = %q, want %q", profileName, profile.DefaultProfileName)
	}
	if strings.Join(scopes, " ") != "user/Patient.read user/Bundle.read user/*.read" {
		t.Errorf("granted scopes shown = %v", scopes)
	}
	if !strings.HasPrefix(countdown, "Expires in ") {
		t.Errorf("countdown = %q", countdown)
	}
	if len(types) < 10 {
		t.Fatalf("only %d resource types listed: %v", len(types), types)
	}
	for _, a := range types {
		if a.Readability != auth.Readable {
			t.Errorf("%s is not readable with user/*.read: %s", a.Type, a.Reason)
		}
	}
	if !strings.Contains(status, "FHIR 3.0.1") {
		t.Errorf("status = %q", status)
	}
}

// The sidebar for the limited-access client: everything clinical greyed,
// with the CCRI's reasons; choosing Patient explains instead of querying.
func TestExplorerGreysOutWhatTheTokenCannotRead(t *testing.T) {
	connected := make(chan struct{}, 1)
	e := newTestExplorer(t, func(e *Explorer) {
		e.onConnected = func(*connection) { signal(connected)() }
	})
	waitFor(t, connected, "the first connection")
	onUI(func() { e.profileSelect.SetSelected(profile.DefaultProfileName + " — limited-access") })
	waitFor(t, connected, "the limited-access connection")

	var patient, org auth.Access
	onUI(func() {
		patient, _ = e.types.get("Patient")
		org, _ = e.types.get("Organization")
	})
	if patient.Readability != auth.NotReadable || !strings.Contains(patient.Reason, "user/Patient.read") {
		t.Errorf("Patient for limited-access: %v", patient)
	}
	if org.Readability != auth.Readable {
		t.Errorf("Organization for limited-access: %v (the CCRI lets any token read it)", org)
	}
	text := explanation(patient, "chosen in the profile")
	if !strings.Contains(text, "Needs user/Patient.read") || !strings.Contains(text, "greyed out") {
		t.Errorf("explanation = %q", text)
	}
}

func TestExplorerLogsInWithTheBrowserAndCancels(t *testing.T) {
	connected := make(chan struct{}, 1)
	loginState := make(chan struct{}, 8)
	var browserURL = make(chan string, 1)
	e := newTestExplorer(t, func(e *Explorer) {
		e.onConnected = func(*connection) { signal(connected)() }
		e.onLoginState = func() { loginState <- struct{}{} }
		e.opts.OpenBrowser = func(ctx context.Context, u string) error {
			browserURL <- u
			return errors.New("no browser on this machine") // the user copies the URL
		}
	})
	waitFor(t, connected, "the first connection")
	onUI(func() { e.profileSelect.SetSelected(profile.DefaultProfileName + " — browser login") })

	// Offered a log-in, not started by itself.
	waitForState(t, e, loginState, func() bool { return e.login.login.Visible() && e.login.box.Visible() })
	onUI(func() { test.Tap(e.login.login) })
	var u string
	select {
	case u = <-browserURL:
	case <-time.After(hangGuard):
		t.Fatal("the browser was never asked to open")
	}
	waitForState(t, e, loginState, func() bool { return e.login.url.Text == u && e.login.cancel.Visible() })
	var title string
	onUI(func() { title = e.login.title.Text })
	if title != "Waiting for the browser…" || !strings.Contains(u, "code_challenge_method=S256") {
		t.Errorf("waiting state: title %q, url %q", title, u)
	}
	onUI(func() { test.Tap(e.login.cancel) })
	waitForState(t, e, loginState, func() bool { return e.login.title.Text == "Log-in cancelled" })
}

// waitForState waits until cond (read on the Fyne goroutine) holds, checking
// after each login-state signal.
func waitForState(t *testing.T, e *Explorer, signals <-chan struct{}, cond func() bool) {
	t.Helper()
	deadline := time.After(hangGuard)
	for {
		var ok bool
		onUI(func() { ok = cond() })
		if ok {
			return
		}
		select {
		case <-signals:
		case <-deadline:
			t.Fatal("timed out waiting for the login panel")
		}
	}
}

func TestCountdownText(t *testing.T) {
	tests := []struct {
		left time.Duration
		want string
	}{
		{-1, "Expiry unknown"},
		{0, "Token expired"},
		{59*time.Minute + 59*time.Second + 900*time.Millisecond, "Expires in 59:59"},
		{90 * time.Minute, "Expires in 1:30:00"},
		{4*time.Minute + 5*time.Second, "Expires in 04:05"},
	}
	for _, tt := range tests {
		if got := countdownText(tt.left); got != tt.want {
			t.Errorf("countdownText(%v) = %q, want %q", tt.left, got, tt.want)
		}
	}
}

func TestCareConnectTypesIn(t *testing.T) {
	got := careConnectTypesIn([]string{"Binary", "Bundle", "Patient", "Observation", "StructureDefinition"})
	if fmt.Sprint(got) != "[Patient Observation Binary]" {
		t.Errorf("careConnectTypesIn = %v", got)
	}
	if n := len(careConnectTypesIn(sandbox.ResourceTypes())); n != len(sandbox.ResourceTypes()) {
		t.Errorf("only %d of the sandbox's %d types are Care Connect types", n, len(sandbox.ResourceTypes()))
	}
}
