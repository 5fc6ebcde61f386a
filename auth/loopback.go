package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// callbackResult is what the one matching redirect carried.
type callbackResult struct {
	code string
	err  error
}

// loopback is the RFC 8252 redirect listener: it answers exactly one request
// to CallbackPath with the right state and shows everything else a 400 page
// while it keeps waiting.
type loopback struct {
	state         string
	issuer        string
	requireIssuer bool
	appName       string

	done   atomic.Bool
	result chan callbackResult

	srv       *http.Server
	closeOnce sync.Once
	served    chan struct{}
}

func newLoopback(ln net.Listener, state, issuer string, requireIssuer bool, appName string) *loopback {
	if appName == "" {
		appName = "Care Connect Explorer"
	}
	l := &loopback{
		state: state, issuer: issuer, requireIssuer: requireIssuer, appName: appName,
		result: make(chan callbackResult, 1),
		served: make(chan struct{}),
	}
	l.srv = &http.Server{
		Handler:           l,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          discardLogger,
	}
	go func() {
		defer close(l.served)
		_ = l.srv.Serve(ln) // returns http.ErrServerClosed on close
	}()
	return l
}

// close stops the listener, letting a response being written finish first.
func (l *loopback) close() {
	l.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := l.srv.Shutdown(ctx); err != nil {
			_ = l.srv.Close()
		}
		<-l.served
	})
}

func (l *loopback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != CallbackPath {
		l.page(w, http.StatusBadRequest, "Not the log-in address",
			"This is not where the log-in returns to. "+l.appName+" is still waiting for the log-in to finish.")
		return
	}
	if r.Method != http.MethodGet {
		l.page(w, http.StatusMethodNotAllowed, "Not the log-in address",
			"The log-in returns here with a GET request. "+l.appName+" is still waiting.")
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(l.state)) != 1 {
		l.page(w, http.StatusBadRequest, "This response does not belong to the current log-in",
			"The state parameter does not match, so "+l.appName+" ignored this response and is still waiting for the log-in to finish.")
		return
	}
	if !l.done.CompareAndSwap(false, true) {
		l.page(w, http.StatusBadRequest, "Log-in already finished",
			"This log-in has already finished; "+l.appName+" ignored this response.")
		return
	}
	var res callbackResult
	switch iss := q.Get("iss"); {
	case l.issuer != "" && iss != "" && strings.TrimRight(iss, "/") != strings.TrimRight(l.issuer, "/"):
		res.err = fmt.Errorf("%w: iss %q, expected %q", ErrIssuerMismatch, iss, l.issuer)
	case l.requireIssuer && iss == "":
		res.err = fmt.Errorf("%w: the server promised an iss parameter (RFC 9207) and sent none", ErrIssuerMismatch)
	case q.Get("error") != "":
		res.err = &AuthorizationError{Code: q.Get("error"), Description: q.Get("error_description"), URI: q.Get("error_uri")}
	case q.Get("code") == "":
		res.err = errors.New("the authorization response has neither a code nor an error")
	default:
		res.code = q.Get("code")
	}
	if res.err != nil {
		l.page(w, http.StatusOK, "Log-in failed", "The log-in did not succeed: "+res.err.Error()+". You can close this tab and return to "+l.appName+".")
	} else {
		l.page(w, http.StatusOK, "Logged in", "You are logged in. You can close this tab and return to "+l.appName+".")
	}
	l.result <- res // buffered; only one request gets here
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Text}}</p></body></html>
`))

func (l *loopback) page(w http.ResponseWriter, status int, title, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, struct{ Title, Text string }{title, text})
}
