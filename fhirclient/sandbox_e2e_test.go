package fhirclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

// startSandbox runs a real sandbox on loopback for the test.
func startSandbox(t *testing.T) *sandbox.Server {
	t.Helper()
	srv, err := sandbox.Start(sandbox.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func demoClient(t *testing.T, srv *sandbox.Server, id string) sandbox.ClientInfo {
	t.Helper()
	for _, c := range srv.Info().Clients {
		if c.ClientID == id {
			return c
		}
	}
	t.Fatalf("sandbox has no demo client %q", id)
	return sandbox.ClientInfo{}
}

func login(t *testing.T, srv *sandbox.Server, clientID string) *auth.Session {
	t.Helper()
	c := demoClient(t, srv, clientID)
	sess, err := auth.ClientCredentials{
		TokenURL: srv.Info().TokenEndpoint, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		Auth: auth.ClientAuthBasic,
	}.Login(context.Background())
	if err != nil {
		t.Fatalf("client credentials for %s: %v", clientID, err)
	}
	return sess
}

// validNHSNumber checks the modulus 11 check digit of an NHS number.
func validNHSNumber(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	if len(s) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 9; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		sum += int(s[i]-'0') * (10 - i)
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	return check != 10 && int(s[9]-'0') == check
}

func TestSandboxPatientSearchWithClientCredentials(t *testing.T) {
	srv := startSandbox(t)
	sess := login(t, srv, "patient-access")

	granted, source := sess.GrantedScopes()
	if source != auth.ScopesFromResponse {
		t.Errorf("scopes came from %s, want the token response", source)
	}
	if !contains(granted, "user/Patient.read") {
		t.Errorf("granted scopes %v lack user/Patient.read", granted)
	}
	if left := sess.TimeLeft(); left <= 0 {
		t.Errorf("a fresh token has %v left", left)
	}

	fc := fhirclient.New(srv.FHIRBase(), sess.HTTPClient(nil))
	b, err := fc.Search(context.Background(), "Patient", url.Values{"_count": {"100"}})
	if err != nil {
		t.Fatalf("Patient search: %v", err)
	}
	table := fhirclient.Rows("Patient", b)
	if len(table.Rows) < 20 {
		t.Fatalf("got %d patients, want at least 20", len(table.Rows))
	}
	if table.Columns[0] != "NHS number" {
		t.Fatalf("first column is %q, want NHS number", table.Columns[0])
	}
	for i, row := range table.Rows {
		if !strings.HasPrefix(row[0], "999") || !validNHSNumber(row[0]) {
			t.Errorf("row %d: NHS number %q is not a valid 999 test number", i, row[0])
		}
		for j, v := range row {
			if v == "" {
				t.Errorf("row %d: column %s is empty", i, table.Columns[j])
			}
		}
	}
}

func TestSandboxRefusesMissingToken(t *testing.T) {
	srv := startSandbox(t)
	fc := fhirclient.New(srv.FHIRBase(), http.DefaultClient)
	_, err := fc.Search(context.Background(), "Patient", nil)
	var he *fhirclient.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized || !errors.Is(err, fhirclient.ErrUnauthorized) {
		t.Fatalf("search without a token: err = %v, want a 401 HTTPError", err)
	}
	if len(he.Issues) == 0 {
		t.Errorf("the 401 carried no OperationOutcome text: %v", err)
	}
}

func TestSandboxForbidsClientWithoutPatientScope(t *testing.T) {
	srv := startSandbox(t)
	sess := login(t, srv, "limited-access")
	fc := fhirclient.New(srv.FHIRBase(), sess.HTTPClient(nil))
	_, err := fc.Search(context.Background(), "Patient", nil)
	var he *fhirclient.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusForbidden || !errors.Is(err, fhirclient.ErrForbidden) {
		t.Fatalf("limited-access Patient search: err = %v, want a 403 HTTPError", err)
	}
	if !strings.Contains(strings.Join(he.Issues, " "), "Patient") {
		t.Errorf("the 403 does not name the Patient scope it needs: %v", err)
	}
}

func TestSandboxRejectsBadClientSecret(t *testing.T) {
	srv := startSandbox(t)
	_, err := auth.ClientCredentials{
		TokenURL: srv.Info().TokenEndpoint, ClientID: "patient-access", ClientSecret: "wrong",
		Auth: auth.ClientAuthBasic,
	}.Login(context.Background())
	var te *auth.TokenError
	if !errors.As(err, &te) || te.Code != "invalid_client" {
		t.Fatalf("login with a wrong secret: err = %v, want invalid_client", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the error message repeats the secret: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
