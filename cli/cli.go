// Package cli is Care Connect Explorer's headless command line: the same
// features as the window, as subcommands for scripts and support desks.
//
// Output goes to stdout, messages to stderr, and no secret is printed
// unless asked for (token --show-token). Every command exits with one of
// the Exit codes. Profiles and sessions live in the same profile store and
// keyring as the window's (CCEXPLORER_CONFIG_DIR,
// CCEXPLORER_KEYRING_BACKEND, CCEXPLORER_KEYRING_PASSWORD).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes shared by every subcommand.
const (
	ExitOK     = 0
	ExitUsage  = 1 // usage or input error
	ExitAuth   = 2 // authentication or authorization failure
	ExitServer = 3 // server or network error
)

// Version and Commit are set at build time with -ldflags -X.
var (
	Version = "dev"
	Commit  = "unknown"
)

// Env is what a subcommand runs with; tests swap in their own.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Context, when non-nil, ends long-running commands (the sandbox, a
	// log-in waiting for the browser) when it is cancelled; nil means on
	// SIGINT or SIGTERM.
	Context context.Context
}

// IsSubcommand reports whether args (without the program name) ask for the
// command line rather than the window.
func IsSubcommand(args []string) bool { return len(args) > 0 }

// command is one subcommand: its name, its one-line summary for the
// overview and the function that runs it.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

// commands lists the subcommands in the order the overview shows them.
var commands = []command{
	{"sandbox", "run the built-in Care Connect sandbox headless", runSandbox},
	{"profile", "add, list, show, remove, export and import server profiles", runProfile},
	{"discover", "show how a FHIR server advertises its OAuth endpoints", runDiscover},
	{"login", "log in with a profile and save the session", runLogin},
	{"logout", "forget (and revoke) a profile's saved session", runLogout},
	{"token", "show the token a profile's session holds", runToken},
	{"access", "show which resource types the token can read", runAccess},
	{"query", "search a FHIR server and print the results", runQuery},
	{"show", "print a saved Bundle or resource file, offline", runShow},
}

func findCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// Run runs the subcommand in args (without the program name) and returns
// the process exit code.
func Run(args []string, env Env) int {
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.Stderr == nil {
		env.Stderr = os.Stderr
	}
	if env.Stdin == nil {
		env.Stdin = os.Stdin
	}
	if len(args) == 0 {
		usage(env.Stderr)
		return ExitUsage
	}
	switch args[0] {
	case "version", "--version", "-version":
		fmt.Fprintf(env.Stdout, "ccexplorer %s (commit %s)\n", Version, Commit)
		return ExitOK
	case "help", "--help", "-help", "-h":
		if len(args) > 1 {
			if c := findCommand(args[1]); c != nil {
				return Run(append([]string{c.name}, append(args[2:], "--help")...), env)
			}
			fmt.Fprintf(env.Stderr, "ccexplorer: unknown command %q\n\n", args[1])
			usage(env.Stderr)
			return ExitUsage
		}
		usage(env.Stdout)
		return ExitOK
	}
	c := findCommand(args[0])
	if c == nil {
		fmt.Fprintf(env.Stderr, "ccexplorer: unknown command %q\n\n", args[0])
		usage(env.Stderr)
		return ExitUsage
	}
	ctx := env.Context
	if ctx == nil {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	err := c.run(ctx, env, args[1:])
	return report(env.Stderr, commandName(c.name, args[1:]), err)
}

// commandName names the command in messages: "profile add" rather than
// "profile" for the profile subcommands.
func commandName(name string, rest []string) string {
	if name == "profile" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		return name + " " + rest[0]
	}
	return name
}

// report prints err (if any) on stderr and returns the exit code for it.
func report(stderr io.Writer, name string, err error) int {
	if err == nil || errors.Is(err, errHelpShown) {
		return ExitOK
	}
	code := exitCode(err)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "ccexplorer %s: %s\nRun 'ccexplorer %s --help' for usage.\n", name, ue.msg, name)
		return code
	}
	if !errors.Is(err, errReported) {
		fmt.Fprintf(stderr, "ccexplorer %s: %s\n", name, errorText(err))
	}
	return code
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`Care Connect Explorer: explore OAuth2-secured FHIR servers.

Usage:
  ccexplorer                  open the window
  ccexplorer COMMAND [args]   run headless
  ccexplorer --version        print the version

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Run 'ccexplorer COMMAND --help' for a command's arguments and flags.

Profiles and sessions are shared with the window. The environment variables
CCEXPLORER_CONFIG_DIR (the profile folder), CCEXPLORER_KEYRING_BACKEND (auto,
file, memory, ...) and CCEXPLORER_KEYRING_PASSWORD (the passphrase of the
encrypted file keyring) choose where they are kept.

Exit codes: 0 success, 1 usage or input error, 2 authentication or
authorization failure, 3 server or network error.
`)
	fmt.Fprint(w, b.String())
}
