package ui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/profile"
	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

// playBrowser is the user at the sandbox's login page: it opens the
// authorization URL, logs in as user approving every scope asked for, and
// follows the redirect to the app's loopback listener.
func playBrowser(authURL string, user sandbox.UserInfo) error {
	u, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != u.Host {
			return http.ErrUseLastResponse // the app's callback: followed below
		}
		return nil
	}}
	resp, err := hc.Get(authURL)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(`name="username"`)) {
		return fmt.Errorf("the login page: %s", resp.Status)
	}
	form := url.Values{"username": {user.Username}, "password": {user.Password}, "decision": {"approve"}}
	form["grant_scope"] = strings.Fields(u.Query().Get("scope"))
	resp, err = hc.PostForm(resp.Request.URL.String(), form)
	if err != nil {
		return err
	}
	resp.Body.Close()
	callback, err := resp.Location()
	if err != nil {
		return fmt.Errorf("the login form answered %s without a redirect", resp.Status)
	}
	if callback.Hostname() != "127.0.0.1" || callback.Path != "/callback" {
		return fmt.Errorf("redirected to %s, not the app's loopback callback", callback.Redacted())
	}
	resp, err = http.Get(callback.String())
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// The whole window against the built-in sandbox: log in through the browser
// with authorization code + PKCE (a goroutine plays the browser on the
// sandbox's login page), then search, page and open a resource's details.
func TestEndToEndBrowserLoginSearchPageDetails(t *testing.T) {
	connected := make(chan struct{}, 1)
	loginState := make(chan struct{}, 8)
	shown := make(chan struct{}, 8)
	details := make(chan struct{}, 8)
	browserErr := make(chan error, 1)
	e := newTestExplorer(t, func(x *Explorer) {
		x.onConnected = func(*connection) { signal(connected)() }
		x.onLoginState = func() { loginState <- struct{}{} }
		x.browser.onShown = signal(shown)
		x.browser.onDetails = signal(details)
		x.opts.OpenBrowser = func(ctx context.Context, authURL string) error {
			// The GP demo user may read everything.
			users := x.ws.SandboxRunning().Info().Users
			i := slices.IndexFunc(users, func(u sandbox.UserInfo) bool { return slices.Contains(u.Scopes, "user/*.read") })
			if i < 0 {
				return fmt.Errorf("no demo user with user/*.read among %v", users)
			}
			go func() { browserErr <- playBrowser(authURL, users[i]) }()
			return nil
		}
	})
	waitFor(t, connected, "the first connection")
	waitFor(t, shown, "the first patient list")

	onUI(func() { e.profileSelect.SetSelected(profile.DefaultProfileName + " — browser login") })
	waitForState(t, e, loginState, func() bool { return e.login.login.Visible() && e.login.box.Visible() })
	onUI(func() { test.Tap(e.login.login) })
	waitFor(t, connected, "the browser log-in")
	select {
	case err := <-browserErr:
		if err != nil {
			t.Fatalf("the browser: %v", err)
		}
	default:
		t.Fatal("connected without the browser finishing")
	}
	waitFor(t, shown, "the patient list after the browser log-in")

	var granted []string
	var source string
	onUI(func() {
		granted = e.token.info.Granted
		source = string(e.token.info.ScopeSource)
	})
	if !slices.Contains(granted, "user/Patient.read") && !slices.Contains(granted, "user/*.read") {
		t.Fatalf("granted after the browser log-in: %v (%s)", granted, source)
	}

	// A smaller page, so there is a next one.
	onUI(func() {
		e.browser.form.count.SetText("10")
		test.Tap(e.browser.search)
	})
	waitFor(t, shown, "the first page of 10")
	var rows int
	var nextDisabled bool
	var firstNHS string
	onUI(func() {
		rows, _ = e.browser.table.Length()
		nextDisabled = e.browser.next.Disabled()
		firstNHS = firstCell(e.browser)
	})
	if rows != 10 || nextDisabled {
		t.Fatalf("first page: %d rows, next disabled %v", rows, nextDisabled)
	}
	onUI(func() { test.Tap(e.browser.next) })
	waitFor(t, shown, "page 2")
	var total, secondNHS string
	onUI(func() {
		total = e.browser.total.Text
		secondNHS = firstCell(e.browser)
	})
	if !strings.HasPrefix(total, "Patient: 11–20 of ") || secondNHS == firstNHS || !strings.HasPrefix(secondNHS, "999") {
		t.Fatalf("page 2: %q, first NHS number %q (page 1 had %q)", total, secondNHS, firstNHS)
	}

	onUI(func() { e.browser.table.Select(widget.TableCellID{Row: 0, Col: 1}) })
	waitFor(t, details, "the details of the first patient on page 2")
	var ref, title string
	onUI(func() {
		ref = e.browser.details.view.entry.Reference()
		title = e.browser.details.title.Text
	})
	if !strings.HasPrefix(ref, "Patient/") || title != ref {
		t.Errorf("details show %q (title %q)", ref, title)
	}
}

// firstCell is the first data cell of the first row on screen.
func firstCell(b *browser) string {
	if len(b.data.Rows) == 0 || len(b.data.Rows[0]) == 0 {
		return ""
	}
	return b.data.Rows[0][0]
}
