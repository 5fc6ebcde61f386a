package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
	"github.com/careconnectexplorer/ccexplorer/profile"
)

const accessUsage = `Usage: ccexplorer access NAME [--json] [--probe]

Lists, for every resource type the server's CapabilityStatement names,
whether the profile's token can read it (read, partial or none) and why: the
granted scope that allows it, or the scope that would be needed, under the
access policy in force (SMART, or the CCRI's own scope table).

With --probe each type is also searched (_count=1), and the server's answer
wins over the prediction where they disagree.

The command is a report: it exits 0 whatever it finds, 2 when the log-in
fails, and 3 when the server cannot be asked.
`

// accessJSON is one row of access --json.
type accessJSON struct {
	Type          string `json:"type"`
	Access        string `json:"access"`
	Reason        string `json:"reason"`
	Scope         string `json:"scope,omitempty"`
	Predicted     string `json:"predicted"`
	Policy        string `json:"policy"`
	Finding       string `json:"finding,omitempty"`
	ServerStatus  int    `json:"server_status,omitempty"`
	ServerMessage string `json:"server_message,omitempty"`
}

// predict says which types the session's scopes can read. A profile that
// sends no token leaves it to the server: every type is taken as readable
// until --probe asks.
func predict(l *live, types []string) []auth.Access {
	if l.sess != nil || l.t.Profile.Grant != profile.GrantNone {
		return l.t.Access(l.sess, types)
	}
	rows := make([]auth.Access, len(types))
	for i, t := range types {
		rows[i] = auth.Access{Type: t, Readability: auth.Readable, Predicted: auth.Readable, Policy: l.t.Policy,
			Reason: "no token is sent (grant none), so the server alone decides; --probe asks it"}
	}
	return rows
}

// accessWord is the JSON spelling of a Readability.
func accessWord(r auth.Readability) string {
	switch r {
	case auth.Readable:
		return "read"
	case auth.PartlyReadable:
		return "partial"
	}
	return "none"
}

func runAccess(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("access", accessUsage, env)
	asJSON := fs.Bool("json", false, "print a JSON array with one object per resource type")
	probe := fs.Bool("probe", false, "confirm each prediction with a search (_count=1)")
	pos, err := fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	l, err := openLive(ctx, env, pos[0])
	if err != nil {
		return err
	}
	defer l.w.Close()
	var rows []auth.Access
	err = l.fhir(ctx, func(fc *fhirclient.Client) error {
		caps, err := fc.Capabilities(ctx)
		if err != nil {
			return err
		}
		rows = predict(l, caps.ResourceTypes())
		if !*probe {
			return nil
		}
		for i, a := range rows {
			_, err := fc.Search(ctx, a.Type, url.Values{"_count": {"1"}})
			status, msg := 200, ""
			var he *fhirclient.HTTPError
			switch {
			case err == nil:
			case errors.As(err, &he) && he.Status == 401 && l.sess == nil:
				a.Readability, a.ServerStatus = auth.NotReadable, he.Status
				a.Reason = "the server asks for a token (HTTP 401), and this profile sends none"
				rows[i] = a
				continue
			case errors.As(err, &he) && he.Status != 401:
				status, msg = he.Status, strings.Join(he.Issues, "; ")
			default:
				return err // a 401 (the token itself is refused) or no answer
			}
			rows[i] = a.WithServerMessage(status, msg)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]accessJSON, len(rows))
		for i, a := range rows {
			out[i] = accessJSON{Type: a.Type, Access: accessWord(a.Readability), Reason: a.Reason, Scope: a.Scope,
				Predicted: accessWord(a.Predicted), Policy: string(a.Policy), Finding: string(a.Finding),
				ServerStatus: a.ServerStatus, ServerMessage: a.ServerMessage}
		}
		return writeJSON(env.Stdout, out)
	}
	granted := "(no token)"
	if l.sess != nil {
		g, src := l.sess.GrantedScopes()
		granted = strings.Join(g, " ") + " (from the " + scopeSourceWords(src) + ")"
	}
	fmt.Fprintf(env.Stderr, "Access policy: %s (%s)\nGranted scopes: %s\n", l.t.Policy, l.t.PolicyWhy, granted)
	header := []string{"TYPE", "ACCESS", "REASON"}
	if *probe {
		header = append(header, "SERVER")
	}
	table := make([][]string, len(rows))
	for i, a := range rows {
		table[i] = []string{a.Type, accessWord(a.Readability), a.Reason}
		if *probe {
			table[i] = append(table[i], strconv.Itoa(a.ServerStatus))
		}
	}
	return writeTable(env.Stdout, header, table)
}
