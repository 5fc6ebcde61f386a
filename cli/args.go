package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// usageError is a mistake in the command line: an unknown flag, a missing
// argument, a bad value. It exits with ExitUsage and a hint to --help.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelpShown is returned after --help printed a command's usage: exit 0.
var errHelpShown = errors.New("help shown")

// errReported marks an error whose details have already been printed on
// stderr; report then prints nothing more.
var errReported = errors.New("reported")

// codedError carries the exit code chosen where the error was understood
// best (for example a 404 answer to the user's own query is a usage
// error, not a server failure).
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

// flagSet is a command's flags with the usage text shown by --help.
type flagSet struct {
	*flag.FlagSet
	name  string // "token", "profile add"
	usage string // synopsis and description, before the flag list
	env   Env
}

// newFlagSet returns the flags of the command name. usage starts with the
// synopsis line(s) and describes the command; --help prints it followed by
// the flags.
func newFlagSet(name, usage string, env Env) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, name: name, usage: usage, env: env}
}

// parse parses args, in which flags may come before, between or after the
// positional arguments (a "--" ends the flags), and returns the positional
// arguments. It returns errHelpShown after printing the help for -h or
// --help, and a usage error for a bad flag or a count of positional
// arguments outside [min, max] (max < 0: no limit).
func (fs *flagSet) parse(args []string, min, max int) ([]string, error) {
	flags, pos := reorder(fs.FlagSet, args)
	if err := fs.Parse(append(flags, append([]string{"--"}, pos...)...)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.printHelp(fs.env.Stdout)
			return nil, errHelpShown
		}
		return nil, usagef("%s", dashes.Replace(err.Error()))
	}
	pos = fs.Args()
	switch {
	case len(pos) < min:
		return nil, usagef("missing argument: %s", synopsis(fs.usage))
	case max >= 0 && len(pos) > max:
		return nil, usagef("unexpected argument %q", pos[max])
	}
	return pos, nil
}

// dashes rewrites the flag package's messages to the two-dash spelling the
// help uses.
var dashes = strings.NewReplacer("flag -", "flag --", "defined: -", "defined: --")

// synopsis returns the first line of a usage text without "Usage: ".
func synopsis(usage string) string {
	line, _, _ := strings.Cut(usage, "\n")
	return strings.TrimPrefix(line, "Usage: ")
}

// printHelp prints the usage text and the flags, written with two dashes.
func (fs *flagSet) printHelp(w io.Writer) {
	var b strings.Builder
	b.WriteString(strings.TrimRight(fs.usage, "\n"))
	b.WriteString("\n")
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nFlags:\n")
		fs.VisitAll(func(f *flag.Flag) {
			name, text := flag.UnquoteUsage(f)
			fmt.Fprintf(&b, "  --%s", f.Name)
			if name != "" {
				fmt.Fprintf(&b, " %s", name)
			}
			b.WriteString("\n        ")
			b.WriteString(strings.ReplaceAll(text, "\n", "\n        "))
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
				fmt.Fprintf(&b, " (default %s)", f.DefValue)
			}
			b.WriteString("\n")
		})
	}
	b.WriteString("  --help\n        show this help\n")
	fmt.Fprint(w, b.String())
}

// boolFlag is implemented by flag values that need no argument.
type boolFlag interface{ IsBoolFlag() bool }

// reorder splits args into flags (with their values) and positional
// arguments, so that flags may follow positional arguments: Go's flag
// package stops at the first non-flag. A flag that takes a value takes the
// next argument unless written --name=value; "--" makes every later
// argument positional; "-" alone is positional (stdin).
func reorder(fs *flag.FlagSet, args []string) (flags, pos []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // the parser reports it
		}
		if bf, ok := f.Value.(boolFlag); ok && bf.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return flags, pos
}

// stdinLines reads secrets from stdin one line at a time. Secrets are never
// taken as flag values, where they would show in the process list and the
// shell's history.
type stdinLines struct {
	r *bufio.Reader
}

func newStdinLines(r io.Reader) *stdinLines { return &stdinLines{r: bufio.NewReader(r)} }

// next reads one line (without its line ending); what names the secret in
// the error for a missing or empty line.
func (s *stdinLines) next(what string) (string, error) {
	line, err := s.r.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", usagef("expected the %s on a line of stdin, but stdin ended", what)
		}
		return "", fmt.Errorf("read the %s from stdin: %w", what, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usagef("the %s read from stdin is empty", what)
	}
	return line, nil
}
