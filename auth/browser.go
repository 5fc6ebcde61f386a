package auth

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/url"
	"os/exec"
	"runtime"
)

// discardLogger silences net/http's server log (for example TLS probes on
// the loopback port), which could otherwise print request details.
var discardLogger = log.New(io.Discard, "", 0)

// OpenSystemBrowser opens u, which must be an http or https URL, in the
// user's default browser (xdg-open, open or the Windows URL handler). It
// returns once the opener has started; ctx only stops it from starting.
func OpenSystemBrowser(ctx context.Context, u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("refusing to open the browser: the log-in address is not an http(s) URL")
	}
	if err := ctx.Err(); err != nil {
		return contextError(err)
	}
	// Not CommandContext: the opener may outlive the log-in harmlessly, and
	// killing it could take the browser tab with it on some desktops.
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", p.String())
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", p.String())
	default:
		cmd = exec.Command("xdg-open", p.String())
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
