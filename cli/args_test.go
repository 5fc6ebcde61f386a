package cli

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/connect"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
	"github.com/careconnectexplorer/ccexplorer/profile"
)

func TestReorderLetsFlagsFollowArguments(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.String("base", "", "")
	fs.Bool("json", false, "")
	fs.Int("max", 0, "")
	for _, tc := range []struct {
		name       string
		args       []string
		flags, pos []string
	}{
		{"flags after the name", []string{"NAME", "--base", "http://x", "--json"},
			[]string{"--base", "http://x", "--json"}, []string{"NAME"}},
		{"interleaved", []string{"--max", "5", "A", "--json", "B"},
			[]string{"--max", "5", "--json"}, []string{"A", "B"}},
		{"value with equals", []string{"A", "--base=http://x"}, []string{"--base=http://x"}, []string{"A"}},
		{"bool with equals", []string{"--json=false", "A"}, []string{"--json=false"}, []string{"A"}},
		{"double dash ends flags", []string{"A", "--", "--json", "-x"}, nil, []string{"A", "--json", "-x"}},
		{"a value that looks like a flag", []string{"--base", "--json", "A"}, []string{"--base", "--json"}, []string{"A"}},
		{"single dash is stdin", []string{"-", "--json"}, []string{"--json"}, []string{"-"}},
		{"unknown flag left to the parser", []string{"A", "--nope", "B"}, []string{"--nope"}, []string{"A", "B"}},
		{"value missing at the end", []string{"A", "--base"}, []string{"--base"}, []string{"A"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flags, pos := reorder(fs, tc.args)
			if !slices.Equal(flags, tc.flags) || !slices.Equal(pos, tc.pos) {
				t.Errorf("reorder(%q) = %q, %q; want %q, %q", tc.args, flags, pos, tc.flags, tc.pos)
			}
		})
	}
}

func TestParseChecksArgumentCounts(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		min, max int
		wantErr  string
	}{
		{[]string{"a"}, 1, 1, ""},
		{nil, 1, 1, "missing argument"},
		{[]string{"a", "b"}, 1, 1, `unexpected argument "b"`},
		{[]string{"a", "b", "c"}, 0, -1, ""},
		{[]string{"a", "--nope"}, 1, 1, "flag provided but not defined: --nope"},
		{[]string{"a", "--max", "x"}, 1, 1, "invalid value"},
	} {
		fs := newFlagSet("t", "Usage: ccexplorer t NAME\n", Env{})
		fs.Int("max", 0, "")
		_, err := fs.parse(tc.args, tc.min, tc.max)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.wantErr)
		case tc.wantErr != "" && exitCode(err) != ExitUsage:
			t.Errorf("%q: exit code %d, want %d", tc.args, exitCode(err), ExitUsage)
		}
	}
}

func TestStdinLines(t *testing.T) {
	in := newStdinLines(strings.NewReader("first secret\r\nsecond\n\nlast-without-newline"))
	for _, want := range []string{"first secret", "second"} {
		if got, err := in.next("secret"); err != nil || got != want {
			t.Fatalf("next = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := in.next("secret"); err == nil || exitCode(err) != ExitUsage {
		t.Errorf("an empty line: %v, want a usage error", err)
	}
	if got, err := in.next("secret"); err != nil || got != "last-without-newline" {
		t.Errorf("last line = %q, %v", got, err)
	}
	if _, err := in.next("password"); err == nil || !strings.Contains(err.Error(), "stdin ended") {
		t.Errorf("at EOF: %v", err)
	}
}

func TestExitCodeMapping(t *testing.T) {
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"usage", usagef("bad"), ExitUsage},
		{"coded", withCode(ExitAuth, errors.New("x")), ExitAuth},
		{"unknown profile", fmt.Errorf("x: %w", profile.ErrNotFound), ExitUsage},
		{"built-in profile", fmt.Errorf("x: %w", profile.ErrBuiltin), ExitUsage},
		{"invalid profile", &profile.ValidationError{Problems: []profile.FieldError{{Field: "base_url", Message: "m"}}}, ExitUsage},
		{"bad import", fmt.Errorf("x: %w", profile.ErrInvalidImport), ExitUsage},
		{"missing file", &os.PathError{Op: "open", Path: "x", Err: os.ErrNotExist}, ExitUsage},
		{"XML file", fmt.Errorf("open x.xml: %w", fhirclient.ErrXMLNotSupported), ExitUsage},
		{"no grant", connect.ErrNoGrant, ExitUsage},
		{"invalid_client", fmt.Errorf("log in: %w", &auth.TokenError{Status: 401, Code: "invalid_client"}), ExitAuth},
		{"access_denied", &auth.AuthorizationError{Code: "access_denied"}, ExitAuth},
		{"token endpoint failed", &auth.TokenError{Status: 502, Body: "bad gateway"}, ExitServer},
		{"token endpoint odd answer", &auth.TokenError{Status: 400, Body: "?"}, ExitAuth},
		{"FHIR 401", fmt.Errorf("search: %w", &fhirclient.HTTPError{Status: 401, Err: fhirclient.ErrUnauthorized}), ExitAuth},
		{"FHIR 403", &fhirclient.HTTPError{Status: 403}, ExitAuth},
		{"FHIR 500", &fhirclient.HTTPError{Status: 500, Err: fhirclient.ErrServer}, ExitServer},
		{"FHIR answered HTML", &fhirclient.HTTPError{Status: 200, Err: fhirclient.ErrNotFHIR}, ExitServer},
		{"FHIR answered XML", &fhirclient.HTTPError{Status: 200, Err: fhirclient.ErrXMLNotSupported}, ExitServer},
		{"login needed", fmt.Errorf("%w: run login", errLoginNeeded), ExitAuth},
		{"expired", fmt.Errorf("GET x: %w", auth.ErrExpired), ExitAuth},
		{"login timed out", fmt.Errorf("wait: %w", auth.ErrTimedOut), ExitAuth},
		{"token endpoint silent", fmt.Errorf("log in: %w", auth.ErrServerTimedOut), ExitServer},
		{"no endpoints", fmt.Errorf("find: %w", auth.ErrNoEndpoints), ExitServer},
		{"network", &url.Error{Op: "Get", URL: "http://x", Err: netErr}, ExitServer},
		{"timeout", fmt.Errorf("GET x: %w", fhirclient.ErrTimeout), ExitServer},
		{"joined 401 and a failed renewal", errors.Join(&fhirclient.HTTPError{Status: 401}, errors.New("renew")), ExitAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

func TestParseSearch(t *testing.T) {
	for _, tc := range []struct {
		in     string
		typ    string
		params url.Values
		bad    bool
	}{
		{"Patient", "Patient", url.Values{}, false},
		{"Patient?family=smith&_count=5", "Patient", url.Values{"family": {"smith"}, "_count": {"5"}}, false},
		{"/Observation?code=http://loinc.org|8867-4", "Observation", url.Values{"code": {"http://loinc.org|8867-4"}}, false},
		{"Observation?date=ge2019&date=le2020", "Observation", url.Values{"date": {"ge2019", "le2020"}}, false},
		{"patient?x=1", "", nil, true},
		{"?x=1", "", nil, true},
		{"Pat-ient", "", nil, true},
		{"https://example.org/Patient", "", nil, true},
		{"Patient?x=%zz", "", nil, true},
	} {
		typ, params, err := parseSearch(tc.in)
		if tc.bad {
			if err == nil || exitCode(err) != ExitUsage {
				t.Errorf("parseSearch(%q) = %q, %v; want a usage error", tc.in, typ, err)
			}
			continue
		}
		if err != nil || typ != tc.typ || params.Encode() != tc.params.Encode() {
			t.Errorf("parseSearch(%q) = %q, %v, %v; want %q, %v", tc.in, typ, params, err, tc.typ, tc.params)
		}
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"clin":                  "clin",
		"Built-in sandbox":      "'Built-in sandbox'",
		"it's":                  `'it'\''s'`,
		"a$b":                   "'a$b'",
		"Built-in sandbox — x":  "'Built-in sandbox — x'",
		"workshop-2025_profile": "workshop-2025_profile",
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}
