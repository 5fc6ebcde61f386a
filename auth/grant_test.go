package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"
	"time"
)

func TestChooseClientAuth(t *testing.T) {
	tests := []struct {
		supported []string
		fallback  ClientAuth
		want      ClientAuth
	}{
		{nil, ClientAuthBody, ClientAuthBody},
		{nil, "", ""},
		{[]string{"client_secret_basic"}, ClientAuthBody, ClientAuthBasic},
		{[]string{"client_secret_post"}, ClientAuthBasic, ClientAuthBody},
		{[]string{"client_secret_post", "private_key_jwt"}, "", ClientAuthBody},
		{[]string{"client_secret_basic", "client_secret_post"}, ClientAuthBody, ClientAuthBody},
		{[]string{"client_secret_basic", "client_secret_post"}, "", ClientAuthBasic},
		{[]string{"private_key_jwt"}, ClientAuthBasic, ClientAuthBasic},
	}
	for _, tt := range tests {
		if got := ChooseClientAuth(tt.supported, tt.fallback); got != tt.want {
			t.Errorf("ChooseClientAuth(%v, %q) = %q, want %q", tt.supported, tt.fallback, got, tt.want)
		}
	}
}

func TestClientCredentialsStub(t *testing.T) {
	tests := []struct {
		name      string
		auth      ClientAuth
		secret    string
		params    url.Values
		wantBasic bool
		wantErr   string
	}{
		{name: "basic", auth: ClientAuthBasic, secret: "app-secret", wantBasic: true},
		{name: "body", auth: ClientAuthBody, secret: "app-secret"},
		{name: "audience and resource", auth: ClientAuthBasic, secret: "app-secret", wantBasic: true,
			params: TokenParams("urn:aud", "https://r1", "https://r2")},
		{name: "wrong secret", auth: ClientAuthBasic, secret: "nope",
			wantErr: "client credentials token request: the server refused the client: invalid_client — Bad client credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newStubAS(t)
			clock := newFakeClock()
			sess, err := ClientCredentials{
				TokenURL: as.url("/token"), ClientID: "app", ClientSecret: tt.secret,
				Scopes: []string{"system/*.read"}, Auth: tt.auth, Params: tt.params, Now: clock.Now,
			}.Login(context.Background())
			if tt.wantErr != "" {
				var te *TokenError
				if err == nil || err.Error() != tt.wantErr || !errors.As(err, &te) || te.Status != 401 {
					t.Fatalf("Login error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if as.basicAuth[0] != tt.wantBasic {
				t.Errorf("Basic auth used = %v, want %v", as.basicAuth[0], tt.wantBasic)
			}
			form := as.lastRequest()
			if form.Get("scope") != "system/*.read" {
				t.Errorf("scope sent = %q", form.Get("scope"))
			}
			for k, v := range tt.params {
				if !reflect.DeepEqual(form[k], v) {
					t.Errorf("param %s sent = %v, want %v", k, form[k], v)
				}
			}
			if got := sess.TimeLeft(); got != time.Hour {
				t.Errorf("TimeLeft = %v, want 1h from expires_in on the injected clock", got)
			}
			if info := sess.Info(); info.ExpirySource != ExpiryFromResponse || info.Renewal != "by asking again (client credentials)" {
				t.Errorf("Info = %+v", info)
			}
			if g, src := sess.GrantedScopes(); src != ScopesRequested || !reflect.DeepEqual(g, []string{"system/*.read"}) {
				t.Errorf("GrantedScopes = %v (%s), want the requested scopes, assumed", g, src)
			}
		})
	}
}

func TestPasswordGrantStub(t *testing.T) {
	tests := []struct {
		name     string
		user     string
		params   url.Values
		wantErr  bool
		wantAuds string
	}{
		{name: "plain", user: "alice"},
		{name: "with audience", user: "alice", params: TokenParams("urn:aud"), wantAuds: "urn:aud"},
		{name: "wrong password", user: "mallory", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newStubAS(t)
			sess, err := PasswordGrant{
				TokenURL: as.url("/token"), ClientID: "app", ClientSecret: "app-secret", Auth: ClientAuthBasic,
				Username: tt.user, Password: "wonderland", Scopes: []string{"user/Patient.read"}, Params: tt.params,
			}.Login(context.Background())
			if tt.wantErr {
				var te *TokenError
				if !errors.As(err, &te) || te.Code != "invalid_grant" {
					t.Fatalf("Login error = %v, want invalid_grant", err)
				}
				if contains(err.Error(), "wonderland") {
					t.Errorf("the error %q contains the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			form := as.lastRequest()
			if form.Get("grant_type") != "password" || form.Get("scope") != "user/Patient.read" || form.Get("aud") != tt.wantAuds {
				t.Errorf("form = %v", form)
			}
			if info := sess.Info(); info.Renewal != "by asking again (password grant)" {
				t.Errorf("Renewal = %q", info.Renewal)
			}
		})
	}
}

func TestTokenErrorMessages(t *testing.T) {
	tests := []struct {
		err  *TokenError
		want string
	}{
		{&TokenError{Status: 401, Code: "invalid_client", Description: "Bad client credentials"},
			"the server refused the client: invalid_client — Bad client credentials"},
		{&TokenError{Status: 400, Code: "invalid_scope"}, "the server refused the requested scopes: invalid_scope"},
		{&TokenError{Status: 502, Body: "<html>Bad gateway</html>"}, `the server gave no usable answer (HTTP 502: "<html>Bad gateway</html>")`},
		{&TokenError{Status: 500}, "the server gave no usable answer (HTTP 500)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestRevocationStub(t *testing.T) {
	as := newStubAS(t)
	tests := []struct {
		name    string
		r       Revocation
		wantErr bool
	}{
		{"basic", Revocation{Endpoint: as.url("/revoke"), ClientID: "app", ClientSecret: "app-secret", Auth: ClientAuthBasic}, false},
		{"body", Revocation{Endpoint: as.url("/revoke"), ClientID: "app", ClientSecret: "app-secret", Auth: ClientAuthBody}, false},
		{"public", Revocation{Endpoint: as.url("/revoke"), ClientID: "app"}, false},
		{"wrong client", Revocation{Endpoint: as.url("/revoke"), ClientID: "other", ClientSecret: "x"}, true},
		{"no endpoint", Revocation{ClientID: "app"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Revoke(context.Background(), "secret-token-value", "access_token")
			if (err != nil) != tt.wantErr {
				t.Fatalf("Revoke error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && contains(err.Error(), "secret-token-value") {
				t.Errorf("the error %q contains the token", err)
			}
		})
	}
}

func TestTokenErrorsNeverRepeatSecrets(t *testing.T) {
	// A badly behaved token endpoint that echoes the request in its error page.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		_, secret, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "<pre>%s %s %s</pre>", secret, r.PostForm.Encode(), r.PostForm.Get("password"))
	}))
	defer echo.Close()
	const secret, password = "s3cret+value/x", "hunter2-password"
	_, err := ClientCredentials{TokenURL: echo.URL, ClientID: "app", ClientSecret: secret, Auth: ClientAuthBasic}.Login(context.Background())
	if err == nil || contains(err.Error(), "s3cret") {
		t.Errorf("client credentials error %v", err)
	}
	_, err = PasswordGrant{TokenURL: echo.URL, ClientID: "app", ClientSecret: secret, Auth: ClientAuthBody,
		Username: "u", Password: password}.Login(context.Background())
	if err == nil || contains(err.Error(), "s3cret") || contains(err.Error(), password) {
		t.Errorf("password grant error %v", err)
	}
	tc := &tokenClient{tokenURL: echo.URL, clientID: "app", clientSecret: secret, auth: ClientAuthBody}
	_, err = tc.refresh(context.Background(), "refresh-token-value")
	if err == nil || contains(err.Error(), "refresh-token-value") || contains(err.Error(), "s3cret") {
		t.Errorf("refresh error %v", err)
	}
	err = Revocation{Endpoint: echo.URL, ClientID: "app", ClientSecret: secret, Auth: ClientAuthBody}.
		Revoke(context.Background(), "access-token-value", "")
	if err == nil || contains(err.Error(), "access-token-value") || contains(err.Error(), "s3cret") {
		t.Errorf("revocation error %v", err)
	}
}
