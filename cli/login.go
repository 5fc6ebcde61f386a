package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/connect"
	"github.com/careconnectexplorer/ccexplorer/profile"
)

const loginUsage = `Usage: ccexplorer login NAME [--no-browser] [--password-stdin]

Runs the profile's grant and saves the session in the keyring, where token,
access and query (and the window) find it.

For the authorization code grant the browser opens at the server's log-in
page; with --no-browser the authorization URL is printed alone on one line of
stdout instead, and the command waits (up to 5 minutes) for the browser's
redirect to the loopback address in it. For the password grant,
--password-stdin reads the password from a line of stdin; without it the
remembered password is used.
`

func runLogin(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("login", loginUsage, env)
	noBrowser := fs.Bool("no-browser", false, "print the authorization URL on stdout instead of opening the browser")
	passwordStdin := fs.Bool("password-stdin", false, "read the password grant's password from a line of stdin")
	pos, err := fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	w, p, err := openProfile(pos[0])
	if err != nil {
		return err
	}
	defer w.Close()
	if p.Grant == profile.GrantNone {
		return withCode(ExitUsage, fmt.Errorf("profile %q has grant none: %w", p.Name, connect.ErrNoGrant))
	}
	var opts connect.LoginOptions
	if *passwordStdin {
		if p.Grant != profile.GrantPassword {
			return usagef("--password-stdin is for profiles with the password grant; %q uses %s", p.Name, p.Grant)
		}
		if opts.Password, err = newStdinLines(env.Stdin).next("password"); err != nil {
			return err
		}
	}
	if p.Grant == profile.GrantPassword && opts.Password == "" {
		if _, err := w.Secrets.Get(p.Name, profile.SecretPassword); err != nil || !p.RememberPassword {
			return usagef("profile %q remembers no password: give it with --password-stdin", p.Name)
		}
	}
	l, err := resolveProfile(ctx, env, w, p.Name)
	if err != nil {
		return err
	}
	opts.OpenBrowser = func(ctx context.Context, u string) error {
		if !*noBrowser {
			fmt.Fprintf(env.Stderr, "Opening the browser to log in. If it does not open, visit:\n  %s\n", u)
			err := auth.OpenSystemBrowser(ctx, u)
			if err == nil {
				return nil
			}
			fmt.Fprintf(env.Stderr, "note: the browser could not be opened (%v)\n", err)
		}
		fmt.Fprintln(env.Stdout, u)
		fmt.Fprintf(env.Stderr, "Open the URL above in a browser and log in; waiting for it to return to this computer (up to %s).\n",
			auth.DefaultLoginTimeout)
		return nil
	}
	sess, saveErr, err := w.Login(ctx, l.t, opts)
	if err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	info := sess.Info()
	var b strings.Builder
	fmt.Fprintf(&b, "Logged in with profile %q", p.Name)
	if len(info.Granted) > 0 {
		fmt.Fprintf(&b, "; granted scopes (from the %s): %s", scopeSourceWords(info.ScopeSource), strings.Join(info.Granted, " "))
	}
	if !info.ExpiresAt.IsZero() {
		fmt.Fprintf(&b, "; the token expires at %s (in %s)", info.ExpiresAt.UTC().Format(time.RFC3339), sess.TimeLeft().Round(time.Second))
	}
	b.WriteString(".\n")
	switch {
	case p.IsSandbox():
		b.WriteString("The session is not saved: the built-in sandbox starts afresh with every command.\n")
	case saveErr != nil:
		fmt.Fprintf(&b, "note: the session will not be remembered: %v\n", saveErr)
	case !w.Secrets.Persistent():
		b.WriteString("note: the keyring keeps secrets for this run only, so the session is not remembered.\n")
	default:
		fmt.Fprintf(&b, "The session is saved in the keyring (%s).\n", w.Secrets.Backend())
	}
	fmt.Fprint(env.Stderr, b.String())
	return nil
}

// scopeSourceWords says where granted scopes were learnt, in words.
func scopeSourceWords(s auth.ScopeSource) string {
	switch s {
	case auth.ScopesFromResponse:
		return "token response"
	case auth.ScopesFromClaim:
		return "token's claims"
	case auth.ScopesRequested:
		return "request, as the server did not say"
	}
	return string(s)
}

const logoutUsage = `Usage: ccexplorer logout NAME

Revokes the profile's saved session where the server offers revocation, and
forgets it. The client secret and a remembered password are kept.
`

func runLogout(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("logout", logoutUsage, env)
	pos, err := fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	w, p, err := openProfile(pos[0])
	if err != nil {
		return err
	}
	defer w.Close()
	if p.IsSandbox() || p.Grant == profile.GrantNone {
		fmt.Fprintf(env.Stderr, "Profile %q keeps no session.\n", p.Name)
		return nil
	}
	if _, err := w.Secrets.LoadToken(p.Name); err != nil {
		fmt.Fprintf(env.Stderr, "Profile %q has no saved session.\n", p.Name)
		return nil
	}
	l, err := resolveProfile(ctx, env, w, p.Name)
	if err != nil {
		// Forget the session even when the server cannot be reached.
		if ferr := w.Secrets.ForgetSession(p.Name); ferr != nil {
			return ferr
		}
		fmt.Fprintf(env.Stderr, "Forgot the session of %q without revoking it: %v\n", p.Name, err)
		return nil
	}
	sess, _ := w.Restore(ctx, l.t)
	if err := w.Logout(ctx, l.t, sess); err != nil {
		fmt.Fprintf(env.Stderr, "note: %v\n", err)
	}
	fmt.Fprintf(env.Stderr, "Logged out of %q.\n", p.Name)
	return nil
}
