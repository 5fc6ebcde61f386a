package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// fakeClock is an injectable clock for expiry tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startSandbox starts a sandbox on loopback and closes it when the test ends.
func startSandbox(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func clientInfo(t testing.TB, s *Server, id string) ClientInfo {
	t.Helper()
	for _, c := range s.Info().Clients {
		if c.ClientID == id {
			return c
		}
	}
	t.Fatalf("no demo client %q", id)
	return ClientInfo{}
}

// tokenResponse is the token endpoint's JSON answer.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	Scope            string `json:"scope"`
	RefreshToken     string `json:"refresh_token"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	status           int
}

// postToken posts a token request with optional HTTP Basic client authentication.
func postToken(t testing.TB, s *Server, form url.Values, basicID, basicSecret string) tokenResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.Info().TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		t.Fatalf("token response: %v", err)
	}
	tr.status = resp.StatusCode
	return tr
}

// clientToken gets a client_credentials token for a demo client with golang.org/x/oauth2.
func clientToken(t testing.TB, s *Server, id string, scopes ...string) string {
	t.Helper()
	c := clientInfo(t, s, id)
	cfg := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: s.Info().TokenEndpoint, Scopes: scopes}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		t.Fatalf("token for %s: %v", id, err)
	}
	return tok.AccessToken
}

type fhirResponse struct {
	status int
	header http.Header
	body   []byte
}

// get performs a GET with an optional bearer token.
func get(t testing.TB, rawURL, token string, header ...string) fhirResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fhirResponse{resp.StatusCode, resp.Header, b}
}

// testBundle is the part of a searchset Bundle the tests read.
type testBundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Total        int    `json:"total"`
	Link         []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Search   struct {
			Mode string `json:"mode"`
		} `json:"search"`
	} `json:"entry"`
}

func (b testBundle) link(rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

func decodeBundle(t testing.TB, r fhirResponse) testBundle {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var b testBundle
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("bundle: %v", err)
	}
	if b.ResourceType != "Bundle" || b.Type != "searchset" {
		t.Fatalf("not a searchset bundle: %s", r.body[:min(200, len(r.body))])
	}
	return b
}

// outcome decodes an OperationOutcome and returns its first diagnostics.
func outcome(t testing.TB, r fhirResponse) string {
	t.Helper()
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Code        string `json:"code"`
			Diagnostics string `json:"diagnostics"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(r.body, &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		t.Fatalf("status %d: want an OperationOutcome, got %s (%v)", r.status, r.body, err)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/fhir+json") && !strings.HasPrefix(r.header.Get("Content-Type"), "application/json+fhir") {
		t.Errorf("OperationOutcome content type %q", r.header.Get("Content-Type"))
	}
	if oo.Issue[0].Diagnostics == "" {
		t.Errorf("OperationOutcome without diagnostics: %s", r.body)
	}
	return oo.Issue[0].Diagnostics
}

// jwtClaims decodes a JWT's claims without verifying it.
func jwtClaims(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := b64.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func readAll(resp *http.Response) ([]byte, error) { return io.ReadAll(resp.Body) }

func oauth2S256(t testing.TB) oauth2.AuthCodeOption {
	t.Helper()
	return oauth2.S256ChallengeOption(oauth2.GenerateVerifier())
}
