package connect

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/careconnectexplorer/ccexplorer/profile"
)

// A token endpoint that redirects (307 keeps the method and the body, so the
// client secret in the form would follow) to another origin: the log-in
// fails and the other origin never sees the request.
func TestTokenEndpointRedirectToAnotherOriginRefused(t *testing.T) {
	var evilHits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
	}))
	defer evil.Close()
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+"/token", http.StatusTemporaryRedirect)
	}))
	defer as.Close()

	w := openWorkspace(t, t.TempDir())
	const secret = "client-secret-that-must-stay-home"
	for _, auth := range []profile.ClientAuth{profile.ClientAuthBasic, profile.ClientAuthBody} {
		p := profile.Profile{Name: "redirected " + string(auth), BaseURL: as.URL + "/fhir", Grant: profile.GrantClientCredentials,
			ClientID: "app", ClientAuth: auth, TokenURL: as.URL + "/token", Scopes: []string{"system/*.read"}}
		if err := w.Store.Add(p); err != nil {
			t.Fatal(err)
		}
		if err := w.Secrets.Set(p.Name, profile.SecretClientSecret, secret); err != nil {
			t.Fatal(err)
		}
		tgt, err := w.Resolve(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = w.Login(context.Background(), tgt, LoginOptions{})
		if !errors.Is(err, ErrRedirectRefused) || !strings.Contains(err.Error(), "another origin") {
			t.Errorf("%s: Login = %v, want the redirect refused", auth, err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error repeats the secret", auth)
		}
	}
	if n := evilHits.Load(); n != 0 {
		t.Errorf("the other origin got %d requests", n)
	}
}
