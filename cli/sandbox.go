package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

const sandboxUsage = `Usage: ccexplorer sandbox [--addr HOST:PORT] [--policy ccri|smart] [--token-ttl DURATION] [--patients N] [--seed N] [--no-well-known]

Runs the built-in Care Connect sandbox (an OAuth2 authorization server and a
FHIR STU3 server with synthetic patients) until interrupted. The first line on
stdout is a JSON object with its URLs (fhir_base, issuer, authorize_endpoint,
token_endpoint), its demo clients (with their demo secrets) and demo users.
`

func runSandbox(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("sandbox", sandboxUsage, env)
	addr := fs.String("addr", "127.0.0.1:0", "`host:port` to listen on (a workshop can use 0.0.0.0:8080)")
	policy := fs.String("policy", "ccri", "who may read what: `ccri` (the CCRI security guide) or smart (SMART App Launch scopes)")
	ttl := fs.Duration("token-ttl", 60*time.Minute, "access token lifetime")
	patients := fs.Int("patients", 50, "number of synthetic patients")
	seed := fs.Int64("seed", 1, "seed of the synthetic data")
	noWellKnown := fs.Bool("no-well-known", false, "serve no .well-known documents, like the CCRI")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	if *policy != "ccri" && *policy != "smart" {
		return usagef("--policy must be ccri or smart, not %q", *policy)
	}
	if *patients < 1 || *ttl <= 0 {
		return usagef("--patients and --token-ttl must be positive")
	}
	srv, err := sandbox.Start(sandbox.Config{
		Addr: *addr, Policy: *policy, TokenTTL: *ttl, Patients: *patients, Seed: *seed, NoWellKnown: *noWellKnown,
	})
	if err != nil {
		return withCode(ExitServer, err)
	}
	line, err := json.Marshal(srv.Info())
	if err != nil {
		_ = srv.Close()
		return withCode(ExitServer, err)
	}
	fmt.Fprintf(env.Stdout, "%s\n", line)
	fmt.Fprintf(env.Stderr, "Care Connect sandbox serving FHIR at %s (Ctrl+C to stop)\n", srv.FHIRBase())
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return withCode(ExitServer, fmt.Errorf("shutdown: %w", err))
	}
	return nil
}
