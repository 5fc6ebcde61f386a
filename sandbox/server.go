package sandbox

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ory/fosite"
)

// Config configures a sandbox.
type Config struct {
	Addr        string           // host:port to listen on; "" means "127.0.0.1:0"
	Policy      string           // "ccri" (default when "") or "smart"
	TokenTTL    time.Duration    // 0 means 60 * time.Minute
	Patients    int              // 0 means 50
	Seed        int64            // 0 means 1
	NoWellKnown bool             // true: no /.well-known/smart-configuration and no openid-configuration (like the real CCRI)
	Now         func() time.Time // optional injectable clock (nil = time.Now), used for token issue/expiry checks

	// PublicURL optionally overrides the root URL advertised in Info and in responses
	// (e.g. "http://192.0.2.10:8080"); by default it is derived from the bound address.
	PublicURL string
}

// Info describes a running sandbox: its endpoints, demo clients and demo users.
type Info struct {
	FHIRBase              string       `json:"fhir_base"`
	Issuer                string       `json:"issuer"`
	AuthorizeEndpoint     string       `json:"authorize_endpoint"`
	TokenEndpoint         string       `json:"token_endpoint"`
	JWKSURI               string       `json:"jwks_uri"`
	RevocationEndpoint    string       `json:"revocation_endpoint"`
	IntrospectionEndpoint string       `json:"introspection_endpoint"`
	Policy                string       `json:"policy"`
	Clients               []ClientInfo `json:"clients"`
	Users                 []UserInfo   `json:"users"`
}

// ClientInfo describes one demo OAuth2 client.
type ClientInfo struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"` // demo secrets, public clients have none
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
	Public       bool     `json:"public,omitempty"`
	Description  string   `json:"description"`
	RedirectURIs []string `json:"redirect_uris,omitempty"` // loopback URIs match on any port (RFC 8252 §7.3)
}

// UserInfo describes one demo user of the login page and the password grant.
type UserInfo struct {
	Username    string   `json:"username"`
	Password    string   `json:"password"`
	Scopes      []string `json:"scopes"`
	Description string   `json:"description"`
}

// URL paths, mirroring the CCRI.
const (
	fhirPath   = "/ccri-fhir/STU3"
	issuerPath = "/ccri-auth"
)

// Server is a running sandbox.
type Server struct {
	cfg      Config
	now      func() time.Time
	root     string
	fhirBase string
	issuer   string

	data     *dataset
	cache    jsonCache
	key      *signingKey
	store    *store
	provider fosite.OAuth2Provider
	clients  []ClientInfo
	users    []UserInfo

	capOnce sync.Once
	capJSON []byte
	capErr  error

	ln   net.Listener
	http *http.Server
	done chan struct{}
}

// Start generates the data and keys, binds cfg.Addr and serves in the background.
func Start(cfg Config) (*Server, error) {
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox listen on %s: %w", s.cfg.Addr, err)
	}
	root := s.cfg.PublicURL
	if root == "" {
		root = "http://" + advertisedHost(ln.Addr().(*net.TCPAddr))
	}
	if err := s.init(root); err != nil {
		ln.Close()
		return nil, err
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          quietLogger(),
	}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln) // returns http.ErrServerClosed on Close/Shutdown
	}()
	return s, nil
}

// newServer applies the defaults and generates data and keys; init must follow once the root URL is known.
func newServer(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	switch cfg.Policy {
	case "":
		cfg.Policy = PolicyCCRI
	case PolicyCCRI, PolicySMART:
	default:
		return nil, fmt.Errorf("sandbox policy %q: want %q or %q", cfg.Policy, PolicyCCRI, PolicySMART)
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 60 * time.Minute
	}
	if cfg.TokenTTL < 0 {
		return nil, fmt.Errorf("sandbox token TTL %v: must be positive", cfg.TokenTTL)
	}
	if cfg.Patients == 0 {
		cfg.Patients = 50
	}
	if cfg.Patients < 0 || cfg.Patients > 1000000 {
		return nil, fmt.Errorf("sandbox patients %d: want 1..1000000", cfg.Patients)
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	if _, err := stu3(); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	key, err := newSigningKey()
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return &Server{
		cfg:     cfg,
		now:     now,
		key:     key,
		data:    generate(cfg.Seed, cfg.Patients),
		clients: demoClients(),
		users:   demoUsers(),
	}, nil
}

func (s *Server) init(root string) error {
	s.root = root
	s.fhirBase = root + fhirPath
	s.issuer = root + issuerPath
	return s.initOAuth()
}

// advertisedHost returns host:port for URLs: the bound address, or for a wildcard bind the first
// non-loopback IPv4 address of the machine (falling back to 127.0.0.1).
func advertisedHost(a *net.TCPAddr) string {
	port := strconv.Itoa(a.Port)
	if !a.IP.IsUnspecified() {
		return net.JoinHostPort(a.IP.String(), port)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, ad := range addrs {
			if ipn, ok := ad.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil && !ipn.IP.IsLinkLocalUnicast() {
				return net.JoinHostPort(ipn.IP.String(), port)
			}
		}
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// Info returns what `ccexplorer sandbox` prints as its first JSON line.
func (s *Server) Info() Info {
	info := Info{
		FHIRBase:              s.fhirBase,
		Issuer:                s.issuer,
		AuthorizeEndpoint:     s.issuer + "/oauth/authorize",
		TokenEndpoint:         s.issuer + "/oauth/token",
		JWKSURI:               s.issuer + "/jwks",
		RevocationEndpoint:    s.issuer + "/oauth/revoke",
		IntrospectionEndpoint: s.issuer + "/oauth/introspect",
		Policy:                s.cfg.Policy,
	}
	for _, c := range s.clients {
		c.GrantTypes = append([]string(nil), c.GrantTypes...)
		c.Scopes = append([]string(nil), c.Scopes...)
		c.RedirectURIs = append([]string(nil), c.RedirectURIs...)
		info.Clients = append(info.Clients, c)
	}
	for _, u := range s.users {
		u.Scopes = append([]string(nil), u.Scopes...)
		info.Users = append(info.Users, u)
	}
	return info
}

// FHIRBase returns the FHIR base URL, e.g. http://127.0.0.1:PORT/ccri-fhir/STU3.
func (s *Server) FHIRBase() string { return s.fhirBase }

// Close stops listening and ends in-flight requests.
func (s *Server) Close() error {
	err := s.http.Close()
	<-s.done
	if err != nil {
		return fmt.Errorf("sandbox close: %w", err)
	}
	return nil
}

// Shutdown stops listening and waits for in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.http.Shutdown(ctx); err != nil {
		return fmt.Errorf("sandbox shutdown: %w", err)
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		return fmt.Errorf("sandbox shutdown: %w", ctx.Err())
	}
	return nil
}

// maxBodyBytes limits request bodies (forms and anything else).
const maxBodyBytes = 1 << 20

// Handler returns the sandbox's HTTP handler (FHIR server and authorization server).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routeOAuth(mux)
	mux.Handle(fhirPath+"/", http.HandlerFunc(s.serveFHIR))
	mux.Handle(fhirPath, http.HandlerFunc(s.serveFHIR))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeOutcome(w, r, http.StatusNotFound, "not-found",
			"Nothing here. The FHIR base is "+s.fhirBase+" and the authorization server is "+s.issuer+".")
	})
	return s.guard(mux)
}

// guard limits request bodies and turns panics into a 500 OperationOutcome.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeOutcome(w, r, http.StatusInternalServerError, "exception",
					fmt.Sprintf("internal error in the sandbox: %v", v))
			}
		}()
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}
