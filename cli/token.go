package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/profile"
)

const tokenUsage = `Usage: ccexplorer token NAME [--json] [--show-token]

Shows what the profile's access token grants and how long it lives: the
granted scopes and where they were learnt (the token response, the token's
claims, or only what was requested), the expiry, whether it can be renewed,
and the JWT's claims and whether its signature was verified.

It uses the saved session (renewing it when it has expired), or logs in when
that needs no browser and no typed password (client credentials, the built-in
sandbox, a remembered password); otherwise it exits 2 and says to run
'ccexplorer login NAME'.

The access token itself is printed only with --show-token: alone on stdout
(for TOKEN=$(ccexplorer token NAME --show-token)), or as access_token in the
JSON.
`

// tokenJSON is what token --json prints.
type tokenJSON struct {
	Profile         string         `json:"profile"`
	TokenType       string         `json:"token_type,omitempty"`
	Granted         []string       `json:"granted_scopes"`
	ScopesSource    string         `json:"scopes_source"`
	Requested       []string       `json:"requested_scopes"`
	ExpiresAt       *string        `json:"expires_at"`
	SecondsLeft     *int64         `json:"seconds_left"`
	ExpirySource    string         `json:"expiry_source,omitempty"`
	Renewable       bool           `json:"renewable"`
	Renewal         string         `json:"renewal"`
	HasRefreshToken bool           `json:"has_refresh_token"`
	Claims          map[string]any `json:"claims"`
	Header          map[string]any `json:"jwt_header,omitempty"`
	Verified        bool           `json:"verified"`
	Verification    string         `json:"verification,omitempty"`
	AccessToken     string         `json:"access_token,omitempty"`
}

func runToken(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("token", tokenUsage, env)
	asJSON := fs.Bool("json", false, "print a JSON object")
	showToken := fs.Bool("show-token", false, "print the access token itself (a secret: handle with care)")
	pos, err := fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	l, err := openLive(ctx, env, pos[0])
	if err != nil {
		return err
	}
	defer l.w.Close()
	if l.sess == nil {
		return withCode(ExitUsage, fmt.Errorf("profile %q has grant %s: it uses no token", l.t.Profile.Name, profile.GrantNone))
	}
	info := l.sess.Info()
	out := tokenJSON{
		Profile: l.t.Profile.Name, TokenType: info.TokenType, Granted: nonNil(info.Granted),
		ScopesSource: string(info.ScopeSource), Requested: nonNil(info.Requested),
		ExpirySource: string(info.ExpirySource), Renewable: info.CanRenew, Renewal: info.Renewal,
		HasRefreshToken: info.HasRefreshToken,
	}
	if !info.ExpiresAt.IsZero() {
		exp := info.ExpiresAt.UTC().Format(time.RFC3339)
		left := int64(l.sess.TimeLeft() / time.Second)
		out.ExpiresAt, out.SecondsLeft = &exp, &left
	}
	if info.JWT != nil {
		out.Claims, out.Header = info.JWT.Claims, info.JWT.Header
		out.Verified, out.Verification = info.JWT.Verified, info.JWT.Label()
	}
	switch {
	case *asJSON:
		if *showToken {
			out.AccessToken = l.sess.Current().AccessToken
		}
		return writeJSON(env.Stdout, out)
	case *showToken:
		_, err := fmt.Fprintln(env.Stdout, l.sess.Current().AccessToken)
		return err
	}
	return printToken(env, out, info)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func printToken(env Env, out tokenJSON, info auth.TokenInfo) error {
	var kv [][2]string
	add := func(k, v string) {
		if v != "" {
			kv = append(kv, [2]string{k, v})
		}
	}
	add("Profile", out.Profile)
	add("Token type", out.TokenType)
	granted := strings.Join(out.Granted, " ")
	if granted == "" {
		granted = "(none)"
	}
	add("Granted scopes", granted+" (from the "+scopeSourceWords(info.ScopeSource)+")")
	add("Requested scopes", strings.Join(out.Requested, " "))
	if out.ExpiresAt != nil {
		add("Expires at", fmt.Sprintf("%s (in %s; from %s)", *out.ExpiresAt,
			time.Duration(*out.SecondsLeft)*time.Second, out.ExpirySource))
	} else {
		add("Expires at", "unknown (the server did not say)")
	}
	if info.ExpiryDisagrees {
		add("Warning", fmt.Sprintf("expires_in and the token's exp claim differ by %s", info.ExpiryDisagreement.Round(time.Second)))
	}
	add("Renewal", out.Renewal)
	if info.JWT == nil {
		add("Access token", "opaque (not a JWT)")
	} else {
		add("Access token", "JWT, "+info.JWT.Label())
	}
	if err := writeKeyValues(env.Stdout, kv); err != nil {
		return err
	}
	if info.JWT != nil && len(info.JWT.Claims) > 0 {
		fmt.Fprintln(env.Stdout, "Claims:")
		var ckv [][2]string
		keys := make([]string, 0, len(info.JWT.Claims))
		for k := range info.JWT.Claims {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ckv = append(ckv, [2]string{"  " + k, claimText(info.JWT, k)})
		}
		return writeKeyValues(env.Stdout, ckv)
	}
	return nil
}

// claimText renders a claim: NumericDates with their time, other values as
// JSON-like text.
func claimText(jwt *auth.DecodedJWT, k string) string {
	v := jwt.Claims[k]
	switch k {
	case "exp", "iat", "nbf", "auth_time":
		if t, ok := jwt.NumericDate(k); ok {
			return fmt.Sprintf("%s (%s)", valueText(v), t.Format(time.RFC3339))
		}
	}
	return valueText(v)
}

// valueText renders a JSON value on one line.
func valueText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = valueText(e)
		}
		return strings.Join(parts, " ")
	case map[string]any, nil:
		b, _ := json.Marshal(v)
		return string(b)
	}
	return fmt.Sprint(v)
}
