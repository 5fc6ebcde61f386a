// Package sandboxrig puts the built-in sandbox and a logged-in FHIR client
// in one process for the benchmarks: the sandbox's handler is served on a
// listener of our own, so that every request it handles can be timed and
// every goroutine serving it carries the pprof label side=server, while the
// client's goroutines (its transport's included) carry side=client.
package sandboxrig

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/careconnectexplorer/ccexplorer/auth"
	"github.com/careconnectexplorer/ccexplorer/fhirclient"
	"github.com/careconnectexplorer/ccexplorer/sandbox"
)

// Options configure a Rig.
type Options struct {
	// Patients is the size of the sandbox's data (sandbox.Config.Patients).
	Patients int
	// Conns is the most idle keep-alive connections the client keeps to
	// the server; 0 means 4.
	Conns int
}

// Rig is a sandbox served on loopback and a client logged in to it with
// client credentials (the "medication-access" demo client, which reads
// every type).
type Rig struct {
	Sandbox *sandbox.Server
	Base    string       // the FHIR base URL, on our listener
	HTTP    *http.Client // sends the Bearer token
	Token   string       // the access token itself, for hand-made requests
	Client  *fhirclient.Client

	// Transport is the client side's connection pool.
	Transport *http.Transport

	handled  atomic.Int64 // requests the handler finished
	handleNS atomic.Int64 // their total time in the handler
	srv      *http.Server
}

// Labels are the pprof labels of each side.
var (
	ClientLabels = pprof.Labels("side", "client")
	ServerLabels = pprof.Labels("side", "server")
)

// Start generates the sandbox's data, serves it on a loopback port and
// logs in. The caller should run Start inside pprof.Do with ClientLabels
// when it profiles, so that the client's connection goroutines inherit
// them (the login opens the first connection).
func Start(ctx context.Context, opt Options) (*Rig, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	root := "http://" + ln.Addr().String()
	sb, err := sandbox.Start(sandbox.Config{Addr: "127.0.0.1:0", Patients: opt.Patients, PublicURL: root})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("start the sandbox: %w", err)
	}
	r := &Rig{Sandbox: sb, Base: sb.Info().FHIRBase}
	h := sb.Handler()
	r.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			t0 := time.Now()
			h.ServeHTTP(w, req)
			r.handleNS.Add(int64(time.Since(t0)))
			r.handled.Add(1)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	// Connection goroutines inherit the labels of the goroutine that
	// starts Serve, so everything the server does is side=server.
	pprof.Do(context.Background(), ServerLabels, func(context.Context) {
		go func() { _ = r.srv.Serve(ln) }()
	})

	conns := opt.Conns
	if conns == 0 {
		conns = 4
	}
	r.Transport = http.DefaultTransport.(*http.Transport).Clone()
	r.Transport.MaxIdleConns = 4 * conns // the benchmarks talk to other servers too
	r.Transport.MaxIdleConnsPerHost = conns
	base := &http.Client{Transport: r.Transport}

	var secret string
	for _, c := range sb.Info().Clients {
		if c.ClientID == sandbox.ClientMedicationAccess {
			secret = c.ClientSecret
		}
	}
	if secret == "" {
		r.Close()
		return nil, errors.New("the sandbox has no medication-access client")
	}
	info := sb.Info()
	sess, err := auth.ClientCredentials{
		TokenURL: info.TokenEndpoint, ClientID: sandbox.ClientMedicationAccess, ClientSecret: secret,
		Auth: auth.ClientAuthBasic, HTTPClient: base,
	}.Login(ctx)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("log in with client credentials: %w", err)
	}
	tok, err := sess.Token()
	if err != nil {
		r.Close()
		return nil, err
	}
	r.Token = tok.AccessToken
	r.HTTP = sess.HTTPClient(base)
	r.Client = fhirclient.New(r.Base, r.HTTP)
	return r, nil
}

// ServerTime returns the requests handled so far and the time spent in
// the sandbox's handler for them.
func (r *Rig) ServerTime() (int64, time.Duration) {
	return r.handled.Load(), time.Duration(r.handleNS.Load())
}

// Close stops both servers.
func (r *Rig) Close() {
	if r.srv != nil {
		_ = r.srv.Close()
	}
	if r.Transport != nil {
		r.Transport.CloseIdleConnections()
	}
	_ = r.Sandbox.Close()
}
