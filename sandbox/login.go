package sandbox

import (
	"html/template"
	"net/http"
	"slices"

	"github.com/ory/fosite"
)

// handleAuthorize validates an authorization request and sends the browser to the login page.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := s.newAuthorizeRequest(r)
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		q = r.PostForm
	}
	http.Redirect(w, r, s.issuer+"/login?"+q.Encode(), http.StatusFound)
}

// newAuthorizeRequest validates an authorization request, including the PKCE parameters that fosite
// would otherwise only check once the user has approved.
func (s *Server) newAuthorizeRequest(r *http.Request) (fosite.AuthorizeRequester, error) {
	ar, err := s.provider.NewAuthorizeRequest(r.Context(), r)
	if err != nil {
		return ar, err
	}
	form := ar.GetRequestForm()
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	switch {
	case challenge == "" && ar.GetClient().IsPublic():
		return ar, fosite.ErrInvalidRequest.WithHint("Clients must include a code_challenge when performing the authorize code flow, but it is missing.").
			WithDebug("The server is configured in a way that enforces PKCE for public clients.")
	case challenge != "" && method != "S256":
		return ar, fosite.ErrInvalidRequest.WithHint("The code_challenge_method must be S256.")
	}
	return ar, nil
}

// loginPage is the data of the login and consent page.
type loginPage struct {
	Client       string
	Description  string
	RedirectURI  string
	Scopes       []scopeChoice
	Users        []UserInfo
	SelectedUser string
	Error        string
}

type scopeChoice struct {
	Scope   string
	Checked bool
}

var loginTemplate = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sign in - Care Connect sandbox</title>
<style>
body { font-family: sans-serif; max-width: 44em; margin: 2em auto; padding: 0 1em; color: #212b32; }
h1 { font-size: 1.4em; } fieldset { margin: 1em 0; border: 1px solid #aeb7bd; }
.error { color: #d5281b; font-weight: bold; } .note { color: #4c6272; font-size: 0.9em; }
label { display: block; margin: 0.3em 0; } button { margin-right: 1em; padding: 0.4em 1.2em; }
</style>
</head>
<body>
<h1>Care Connect sandbox: sign in</h1>
<p><strong>{{.Client}}</strong> asks to access the sandbox FHIR server on your behalf.</p>
<p class="note">{{.Description}}<br>It will be sent back to {{.RedirectURI}}</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post">
<fieldset>
<legend>Demo user</legend>
{{range .Users}}<label><input type="radio" name="username" value="{{.Username}}"{{if eq .Username $.SelectedUser}} checked{{end}} required>
<strong>{{.Username}}</strong> (password <code>{{.Password}}</code>): {{.Description}}</label>
{{end}}
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
</fieldset>
<fieldset>
<legend>Scopes to grant (untick to narrow)</legend>
{{range .Scopes}}<label><input type="checkbox" name="grant_scope" value="{{.Scope}}"{{if .Checked}} checked{{end}}> <code>{{.Scope}}</code></label>
{{else}}<p class="note">No scopes requested.</p>{{end}}
<p class="note">Scopes the chosen user may not have are left out.</p>
</fieldset>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</form>
</body>
</html>
`))

// handleLogin shows the login page (GET) and completes the authorization (POST).
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := s.newAuthorizeRequest(r)
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	if r.Method == http.MethodGet {
		s.renderLogin(w, ar, nil, "", "", http.StatusOK)
		return
	}
	if r.PostForm.Get("decision") != "approve" {
		s.provider.WriteAuthorizeError(ctx, w, ar, fosite.ErrAccessDenied.WithHint("The user denied the request."))
		return
	}
	username := r.PostForm.Get("username")
	user := s.store.users[username]
	if user == nil || !user.checkPassword(r.PostForm.Get("password")) {
		s.renderLogin(w, ar, r.PostForm["grant_scope"], username, "Unknown user or wrong password.", http.StatusUnauthorized)
		return
	}
	checked := r.PostForm["grant_scope"]
	requested := ar.GetRequestedScopes()
	if len(requested) == 0 {
		requested = user.defaultScopes(ar.GetClient().GetScopes())
		checked = requested
	}
	for _, sc := range requested {
		if slices.Contains(checked, sc) && user.mayHave(sc) {
			ar.GrantScope(sc)
		}
	}
	ar.GrantAudience(s.fhirBase)
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, newSession(username))
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

func (s *Server) renderLogin(w http.ResponseWriter, ar fosite.AuthorizeRequester, checked []string, username, msg string, status int) {
	page := loginPage{
		Client:       ar.GetClient().GetID(),
		RedirectURI:  ar.GetRedirectURI().String(),
		Users:        s.users,
		SelectedUser: username,
		Error:        msg,
	}
	for _, c := range s.clients {
		if c.ClientID == page.Client {
			page.Description = c.Description
		}
	}
	for _, sc := range ar.GetRequestedScopes() {
		page.Scopes = append(page.Scopes, scopeChoice{Scope: sc, Checked: checked == nil || slices.Contains(checked, sc)})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = loginTemplate.Execute(w, page)
}
