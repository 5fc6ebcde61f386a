package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Revocation describes a token revocation endpoint (RFC 7009) and the client
// that uses it.
type Revocation struct {
	Endpoint     string
	ClientID     string
	ClientSecret string // empty for a public client
	Auth         ClientAuth
	// HTTPClient makes the request; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// Revoke asks the server to revoke token; hint is "access_token",
// "refresh_token" or "". A 200 answer means the token is no longer valid
// (RFC 7009 section 2.2: also when it was not valid before). The token never
// appears in the returned error.
func (r Revocation) Revoke(ctx context.Context, token, hint string) error {
	if r.Endpoint == "" {
		return fmt.Errorf("revoke token: the server offers no revocation endpoint")
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	basic := r.ClientSecret != "" && r.Auth != ClientAuthBody
	if !basic {
		form.Set("client_id", r.ClientID)
		if r.ClientSecret != "" {
			form.Set("client_secret", r.ClientSecret)
		}
	}
	type answer struct {
		status int
		body   []byte
	}
	ans, err := bounded(ctx, func(ctx context.Context) (answer, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Endpoint, strings.NewReader(form.Encode()))
		if err != nil {
			return answer{}, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		if basic {
			req.SetBasicAuth(url.QueryEscape(r.ClientID), url.QueryEscape(r.ClientSecret))
		}
		resp, err := httpClient(r.HTTPClient).Do(req)
		if err != nil {
			return answer{}, contextError(err)
		}
		defer resp.Body.Close()
		body, err := readBounded(resp.Body)
		return answer{resp.StatusCode, body}, err
	})
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if ans.status == http.StatusOK {
		return nil
	}
	body := ans.body
	te := &TokenError{Status: ans.status}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		te.Code, te.Description = e.Error, shorten(redact(e.Description, []string{token, r.ClientSecret}), maxDescription)
	} else {
		te.Body = shorten(redact(string(body), []string{token, r.ClientSecret}), 120)
	}
	return fmt.Errorf("revoke token: %w", te)
}
