package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/connect"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
	"github.com/careconnectexplorer/ccexplorer/profile"
)

// clock is the sessions' clock; nil means time.Now. Tests move it to
// expire saved sessions without waiting.
var clock auth.Clock

// renewMargin is how close to its expiry a saved token is renewed before
// use, so that it does not expire in the middle of a command.
const renewMargin = 30 * time.Second

// openWorkspace opens the profile store and the keyring the window uses.
// A damaged or newer profile file is an input error.
func openWorkspace() (*connect.Workspace, error) {
	w, err := connect.Open(connect.Options{})
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	w.Now = clock
	return w, nil
}

// openProfile opens the workspace and looks up the named profile; the
// caller closes the workspace.
func openProfile(name string) (*connect.Workspace, profile.Profile, error) {
	w, err := openWorkspace()
	if err != nil {
		return nil, profile.Profile{}, err
	}
	p, err := getProfile(w, name)
	if err != nil {
		w.Close()
		return nil, profile.Profile{}, err
	}
	return w, p, nil
}

// openLive opens the workspace and connects the named profile with a
// session; the caller closes l.w.
func openLive(ctx context.Context, env Env, name string) (*live, error) {
	w, err := openWorkspace()
	if err != nil {
		return nil, err
	}
	l, err := connectProfile(ctx, env, w, name)
	if err != nil {
		w.Close()
		return nil, err
	}
	return l, nil
}

// getProfile returns the named profile or an error saying how to list them.
func getProfile(w *connect.Workspace, name string) (profile.Profile, error) {
	p, err := w.Store.Get(name)
	if err != nil {
		return profile.Profile{}, fmt.Errorf("%w: there is no profile named %q (see 'ccexplorer profile list')", profile.ErrNotFound, name)
	}
	return p, nil
}

// live is a profile made ready to use with a session: restored from the
// keyring, renewed, or freshly logged in.
type live struct {
	w    *connect.Workspace
	t    *connect.Target
	sess *auth.Session // nil for a profile without a grant
	// restored says that sess came from the keyring, so a 401 may only
	// mean the saved token has gone stale on the server.
	restored bool
	env      Env
}

// connectProfile resolves the named profile and gives it a session
// without any user interaction: the saved session (renewed when it has
// expired), or a fresh log-in for grants that need no browser and no
// typed password. Otherwise it fails with an error wrapping
// errLoginNeeded that says to run 'ccexplorer login NAME'.
func connectProfile(ctx context.Context, env Env, w *connect.Workspace, name string) (*live, error) {
	l, err := resolveProfile(ctx, env, w, name)
	if err != nil {
		return nil, err
	}
	if err := l.start(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// resolveProfile looks the profile up and resolves it (starting the
// built-in sandbox and running discovery), without logging in.
func resolveProfile(ctx context.Context, env Env, w *connect.Workspace, name string) (*live, error) {
	p, err := getProfile(w, name)
	if err != nil {
		return nil, err
	}
	if w.SecretsProblem != nil && !p.IsSandbox() && p.Grant != profile.GrantNone {
		fmt.Fprintf(env.Stderr, "note: %v; secrets and sessions are kept for this run only\n", w.SecretsProblem)
	}
	t, err := w.Resolve(ctx, p)
	if err != nil {
		return nil, err
	}
	return &live{w: w, t: t, env: env}, nil
}

func (l *live) start(ctx context.Context) error {
	p := l.t.Profile
	if p.Grant == profile.GrantNone {
		return nil
	}
	if !p.IsSandbox() {
		sess, err := l.w.Restore(ctx, l.t)
		switch {
		case err == nil:
			l.sess, l.restored = sess, true
			if left := sess.TimeLeft(); left >= 0 && left < renewMargin {
				return l.renew(ctx)
			}
			return nil
		case errors.Is(err, connect.ErrNoSavedSession):
		default:
			fmt.Fprintf(l.env.Stderr, "note: the saved session could not be read: %v\n", err)
		}
	}
	return l.login(ctx)
}

// renew renews the session's token, or logs in afresh when the session
// cannot be renewed and the grant needs no user. The new session is saved.
func (l *live) renew(ctx context.Context) error {
	if l.sess != nil && l.sess.Info().CanRenew {
		err := l.sess.Renew(ctx)
		if err == nil {
			l.save()
			return nil
		}
		if interactive(l.t.Profile) != "" {
			return l.loginNeeded(fmt.Sprintf("its session could not be renewed (%v)", err))
		}
	}
	return l.login(ctx)
}

// login logs in afresh when that needs no user, and saves the session.
func (l *live) login(ctx context.Context) error {
	if why := interactive(l.t.Profile); why != "" {
		if l.sess != nil {
			why = "its saved session has expired and cannot be renewed, and " + why
		}
		return l.loginNeeded(why)
	}
	p := l.t.Profile
	if p.Grant == profile.GrantPassword {
		if _, err := l.w.Secrets.Get(p.Name, profile.SecretPassword); err != nil {
			return l.loginNeeded("has no remembered password")
		}
	}
	sess, saveErr, err := l.w.Login(ctx, l.t, connect.LoginOptions{})
	if err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	if saveErr != nil {
		fmt.Fprintf(l.env.Stderr, "note: the session will not be remembered: %v\n", saveErr)
	}
	l.sess, l.restored = sess, false
	return nil
}

func (l *live) save() {
	if err := l.w.SaveSession(l.t, l.sess); err != nil {
		fmt.Fprintf(l.env.Stderr, "note: the renewed session will not be remembered: %v\n", err)
	}
}

func (l *live) loginNeeded(why string) error {
	name := l.t.Profile.Name
	if l.t.Profile.IsSandbox() {
		return fmt.Errorf("%w: profile %q %s; the built-in sandbox starts afresh with every command, so its sessions are not saved: "+
			"run 'ccexplorer sandbox' and add a profile for its ccexplorer-desktop client instead", errLoginNeeded, name, why)
	}
	return fmt.Errorf("%w: profile %q %s; run 'ccexplorer login %s' first", errLoginNeeded, name, why, quote(name))
}

// interactive says why the profile's grant cannot log in without the user
// (a browser, or a password that is not remembered), or "" when it can.
func interactive(p profile.Profile) string {
	switch p.Grant {
	case profile.GrantAuthorizationCode:
		return "logs in through the browser"
	case profile.GrantPassword:
		if !p.RememberPassword {
			return "needs the user's password"
		}
	}
	return ""
}

// fhir runs fn with a FHIR client that sends the session's token. When a
// saved token is refused (401), it renews the session and runs fn once more:
// the server may have forgotten the token (restarted, or revoked it).
func (l *live) fhir(ctx context.Context, fn func(*fhirclient.Client) error) error {
	err := fn(l.t.FHIR(l.sess))
	if err == nil || !l.restored || !errors.Is(err, fhirclient.ErrUnauthorized) {
		return err
	}
	fmt.Fprintln(l.env.Stderr, "note: the server did not accept the saved token; renewing the session")
	if rerr := l.renew(ctx); rerr != nil {
		return errors.Join(err, rerr)
	}
	return fn(l.t.FHIR(l.sess))
}
