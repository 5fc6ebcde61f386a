package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestSandboxCommandPrintsInfoThenServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- Run([]string{"sandbox", "--addr", "127.0.0.1:0", "--patients", "25"}, Env{Stdout: outW, Stderr: &stderr, Context: ctx})
		outW.Close()
	}()

	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the first stdout line: %v", err)
	}
	var info struct {
		FHIRBase      string `json:"fhir_base"`
		TokenEndpoint string `json:"token_endpoint"`
		Clients       []struct {
			ClientID     string   `json:"client_id"`
			ClientSecret string   `json:"client_secret"`
			GrantTypes   []string `json:"grant_types"`
			Scopes       []string `json:"scopes"`
		} `json:"clients"`
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("first line is not JSON: %v\n%s", err, line)
	}
	if !strings.HasPrefix(info.FHIRBase, "http://127.0.0.1:") || info.TokenEndpoint == "" || len(info.Clients) < 2 {
		t.Fatalf("incomplete startup line: %s", line)
	}
	ids := map[string]bool{}
	for _, c := range info.Clients {
		ids[c.ClientID] = true
		if len(c.GrantTypes) == 0 {
			t.Errorf("client %s lists no grant types", c.ClientID)
		}
	}
	for _, want := range []string{"patient-access", "limited-access"} {
		if !ids[want] {
			t.Errorf("startup line lacks demo client %s", want)
		}
	}

	resp, err := http.Get(info.FHIRBase + "/metadata")
	if err != nil {
		t.Fatalf("the sandbox is not serving: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /metadata: %s", resp.Status)
	}

	go io.Copy(io.Discard, outR)
	cancel()
	if code := <-done; code != ExitOK {
		t.Fatalf("exit code %d after cancel, want 0; stderr: %s", code, stderr.String())
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"no-such-command"},
		{"sandbox", "--policy", "lenient"},
		{"sandbox", "--patients", "0"},
		{"sandbox", "extra"},
	} {
		var out, errOut strings.Builder
		if code := Run(args, Env{Stdout: &out, Stderr: &errOut}); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, ExitUsage)
		}
		if errOut.Len() == 0 {
			t.Errorf("%v: nothing said on stderr", args)
		}
	}
}

func TestVersion(t *testing.T) {
	var out strings.Builder
	if code := Run([]string{"--version"}, Env{Stdout: &out}); code != ExitOK || !strings.HasPrefix(out.String(), "ccexplorer ") {
		t.Errorf("--version: code %d, output %q", code, out.String())
	}
}
