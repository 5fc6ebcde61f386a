package fhirclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// UserAgent names the app in every request; main sets the version.
var UserAgent = "CareConnectExplorer/dev"

// The media types the client asks for: the STU3/R4 one first, then the
// DSTU2-era one that some STU3 servers still insist on.
const (
	acceptFHIR   = "application/fhir+json"
	acceptLegacy = "application/json+fhir"
)

// Defaults for Options.
const (
	DefaultTimeout       = 60 * time.Second
	DefaultMaxBody       = 64 << 20
	DefaultMaxRetries    = 3
	DefaultMaxRetryDelay = 30 * time.Second
)

// Options tunes a Client. The zero value gives the defaults.
type Options struct {
	// UserAgent replaces the package's UserAgent.
	UserAgent string
	// Timeout bounds each request, including reading the answer; it is
	// DefaultTimeout when zero and no bound when negative.
	Timeout time.Duration
	// MaxBodyBytes bounds the size of an answer; DefaultMaxBody when zero.
	MaxBodyBytes int64
	// Log receives every request; the client makes its own when nil.
	Log *RequestLog
	// MaxRetries bounds the retries of an answer 429 or 503; DefaultMaxRetries
	// when zero, none when negative.
	MaxRetries int
	// MaxRetryDelay is the longest the client waits before a retry; an
	// answer asking for longer is returned as an error. DefaultMaxRetryDelay
	// when zero.
	MaxRetryDelay time.Duration
	// Sleep waits before a retry; tests replace it. It must return early
	// with ctx's error when ctx ends.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRetry, if set, is told about each retry before the wait.
	OnRetry func(Retry)
	// Version fixes the FHIR version instead of reading it from the
	// CapabilityStatement.
	Version Version
	// Now is the clock for the request log; time.Now when nil.
	Now func() time.Time
}

// Retry describes a retry of a rate-limited or unavailable request.
type Retry struct {
	URL     string // redacted
	Status  int
	Attempt int // 1 for the first retry
	Max     int
	Delay   time.Duration
}

// Client talks to one FHIR server. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	baseErr error
	baseStr string
	hc      *http.Client
	opt     Options
	log     *RequestLog
	legacy  atomic.Bool // the server wants application/json+fhir

	mu          sync.Mutex
	version     Version
	fhirVersion string
}

// New returns a client for the FHIR server at base (for example
// https://host/ccri-fhir/STU3). hc makes the requests and adds any
// credentials; nil means http.DefaultClient.
func New(base string, hc *http.Client) *Client {
	return NewWithOptions(base, hc, Options{})
}

// NewWithTokenSource returns a client whose requests carry a Bearer token
// from ts.
func NewWithTokenSource(base string, ts oauth2.TokenSource, o Options) *Client {
	hc := &http.Client{Transport: &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, ts), Base: http.DefaultTransport}}
	return NewWithOptions(base, hc, o)
}

// NewWithOptions is New with options. The client never lets a redirect
// take hc's credentials to another origin (scheme, host and port):
// such redirects, like paging links to another origin, fail with
// ErrCrossOrigin.
func NewWithOptions(base string, hc *http.Client, o Options) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := &Client{baseStr: strings.TrimRight(base, "/"), opt: o, version: o.Version}
	u, err := url.Parse(c.baseStr)
	switch {
	case err != nil:
		c.baseErr = fmt.Errorf("the server address %q: %w", base, err)
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		c.baseErr = fmt.Errorf("the server address %q is not an http or https URL", base)
	default:
		u.RawQuery, u.Fragment = "", ""
		c.base = u
	}
	if c.opt.Timeout == 0 {
		c.opt.Timeout = DefaultTimeout
	}
	if c.opt.MaxBodyBytes <= 0 {
		c.opt.MaxBodyBytes = DefaultMaxBody
	}
	if c.opt.MaxRetries == 0 {
		c.opt.MaxRetries = DefaultMaxRetries
	}
	if c.opt.MaxRetryDelay <= 0 {
		c.opt.MaxRetryDelay = DefaultMaxRetryDelay
	}
	if c.opt.Sleep == nil {
		c.opt.Sleep = sleep
	}
	if c.opt.Now == nil {
		c.opt.Now = time.Now
	}
	if c.opt.UserAgent == "" {
		c.opt.UserAgent = UserAgent
	}
	c.log = o.Log
	if c.log == nil {
		c.log = NewRequestLog(DefaultLogSize)
	}
	cp := *hc
	prev := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && !sameOrigin(req.URL, via[0].URL) {
			return fmt.Errorf("%w: a redirect to %s", ErrCrossOrigin, origin(req.URL))
		}
		if prev != nil {
			return prev(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	c.hc = &cp
	return c
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Base returns the server's base URL.
func (c *Client) Base() string { return c.baseStr }

// Log returns the client's request log.
func (c *Client) Log() *RequestLog { return c.log }

// Version returns the FHIR version entries are parsed as: the one in
// Options, else the one Capabilities read, else VersionUnknown.
func (c *Client) Version() Version {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// FHIRVersion returns the server's fhirVersion as Capabilities read it.
func (c *Client) FHIRVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fhirVersion == "" {
		return string(c.version)
	}
	return c.fhirVersion
}

func (c *Client) setVersion(fhirVersion string, v Version) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fhirVersion = fhirVersion
	if c.opt.Version == VersionUnknown {
		c.version = v
	}
}

// origin returns scheme://host:port with the default port made explicit.
func origin(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	scheme := strings.ToLower(u.Scheme)
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host + ":" + port
}

func sameOrigin(a, b *url.URL) bool { return origin(a) == origin(b) }

// resolve turns a reference, relative to the base or absolute, into a URL
// on the server's origin.
func (c *Client) resolve(target string) (*url.URL, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	t, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("the address %q: %w", RedactURL(target), err)
	}
	if !t.IsAbs() {
		b := *c.base
		b.Path = strings.TrimRight(b.Path, "/") + "/"
		b.RawPath = ""
		t = b.ResolveReference(t)
	}
	if !sameOrigin(t, c.base) {
		return nil, fmt.Errorf("%w: %s is not on %s", ErrCrossOrigin, RedactURL(t.String()), origin(c.base))
	}
	return t, nil
}

// reply is a server's answer, read in full.
type reply struct {
	status      int
	header      http.Header
	body        []byte
	url         string
	contentType string
	retryAfter  time.Duration
}

func (c *Client) maxRetries() int {
	if c.opt.MaxRetries < 0 {
		return 0
	}
	return c.opt.MaxRetries
}

func (c *Client) fhirAccept() string {
	if c.legacy.Load() {
		return acceptLegacy
	}
	return acceptFHIR
}

// fetch GETs target with a bounded, retried request. accept "" asks for
// FHIR JSON, falling back to application/json+fhir when the server does
// not accept application/fhir+json.
func (c *Client) fetch(ctx context.Context, target, accept string) (*reply, error) {
	u, err := c.resolve(target)
	if err != nil {
		return nil, err
	}
	if c.opt.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.opt.Timeout, ErrTimeout)
		defer cancel()
	}
	fhir := accept == ""
	note := ""
	fellBack := false
	for attempt := 0; ; {
		acc := accept
		if fhir {
			acc = c.fhirAccept()
		}
		r, err := c.roundTrip(ctx, u.String(), acc, note)
		if err != nil {
			return nil, err
		}
		note = ""
		if fhir && !fellBack && acc == acceptFHIR && (r.status == http.StatusNotAcceptable || r.status == http.StatusUnsupportedMediaType ||
			(r.status/100 == 2 && isXMLType(mediaType(r.contentType)))) {
			c.legacy.Store(true)
			fellBack = true
			note = "Accept fallback to " + acceptLegacy
			continue
		}
		if (r.status == http.StatusTooManyRequests || r.status == http.StatusServiceUnavailable) && attempt < c.maxRetries() {
			delay := r.retryAfter
			if delay <= 0 {
				delay = time.Second << attempt
			}
			if delay > c.opt.MaxRetryDelay {
				return r, nil
			}
			attempt++
			info := Retry{URL: RedactURL(u.String()), Status: r.status, Attempt: attempt, Max: c.maxRetries(), Delay: delay}
			if c.opt.OnRetry != nil {
				c.opt.OnRetry(info)
			}
			note = fmt.Sprintf("retry %d of %d after %v (HTTP %d)", attempt, info.Max, delay, r.status)
			if err := c.opt.Sleep(ctx, delay); err != nil {
				return nil, fmt.Errorf("GET %s: waiting to retry: %w", RedactURL(u.String()), c.ctxErr(ctx, err))
			}
			continue
		}
		return r, nil
	}
}

// ctxErr turns the end of a request's context into ErrTimeout when the
// client's own timeout ended it.
func (c *Client) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrTimeout) {
		return fmt.Errorf("%w (%v)", ErrTimeout, c.opt.Timeout)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// roundTrip makes one request and records it in the log.
func (c *Client) roundTrip(ctx context.Context, u, accept, note string) (*reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("build the request for %s: %w", RedactURL(u), err)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", c.opt.UserAgent)
	start := c.opt.Now()
	entry := LogEntry{Time: start, Method: http.MethodGet, URL: u, Header: req.Header.Clone(),
		FHIRVersion: c.FHIRVersion(), Note: note}
	resp, err := c.hc.Do(req)
	if err != nil {
		err = c.transportError(ctx, u, err)
		entry.Duration = c.opt.Now().Sub(start)
		entry.Error = err.Error()
		c.log.Add(entry)
		return nil, err
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, c.opt.MaxBodyBytes+1))
	entry.Duration = c.opt.Now().Sub(start)
	entry.Status = resp.StatusCode
	entry.Bytes = int64(len(body))
	entry.ContentType = resp.Header.Get("Content-Type")
	final := u
	if resp.Request != nil && resp.Request.URL != nil && resp.Request.URL.String() != u {
		final = resp.Request.URL.String()
		entry.Note = strings.TrimPrefix(entry.Note+"; redirected to "+RedactURL(final), "; ")
	}
	switch {
	case rerr != nil:
		err = fmt.Errorf("GET %s: read the answer: %w", RedactURL(u), c.ctxErr(ctx, rerr))
	case int64(len(body)) > c.opt.MaxBodyBytes:
		err = fmt.Errorf("GET %s: %w (more than %d MB); ask for fewer entries with _count",
			RedactURL(u), ErrTooLarge, c.opt.MaxBodyBytes>>20)
	}
	if err != nil {
		entry.Error = err.Error()
		c.log.Add(entry)
		return nil, err
	}
	c.log.Add(entry)
	if resp.Request != nil {
		// The credential the transport added below this client (a Bearer
		// token), where the server echoes it, goes no further: not into
		// errors, outcomes, rows or exports.
		body = redactSent(body, sentCredentials(resp.Request.Header))
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: body, url: final,
		contentType: entry.ContentType, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.opt.Now())}, nil
}

func (c *Client) transportError(ctx context.Context, u string, err error) error {
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err
	}
	if errors.Is(inner, ErrCrossOrigin) {
		return fmt.Errorf("GET %s: %w", RedactURL(u), inner)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("GET %s: %w", RedactURL(u), c.ctxErr(ctx, inner))
	}
	return fmt.Errorf("GET %s: %w", RedactURL(u), inner)
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 1_000_000)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// getResource GETs a FHIR resource and returns its JSON tree; paging says
// the target is a Bundle's paging link, whose 404 or 410 means the search
// has expired.
func (c *Client) getResource(ctx context.Context, target string, paging bool) (*reply, *node, error) {
	r, err := c.fetch(ctx, target, "")
	if err != nil {
		return nil, nil, err
	}
	if r.status/100 != 2 {
		return r, nil, newStatusError(r, paging)
	}
	root, err := c.decodeReply(r)
	if err != nil {
		return r, nil, err
	}
	return r, root, nil
}

// decodeReply parses a success answer as a FHIR resource.
func (c *Client) decodeReply(r *reply) (*node, error) {
	mt := mediaType(r.contentType)
	switch {
	case len(bytes.TrimSpace(r.body)) == 0:
		return nil, notFHIR(r, nil, "the answer is empty")
	case isXMLType(mt) || (r.contentType == "" && bytes.HasPrefix(bytes.TrimSpace(r.body), []byte("<?xml"))):
		return nil, notFHIR(r, ErrXMLNotSupported, "the server answered XML, which is not supported yet")
	case r.contentType != "" && !isJSONType(mt):
		return nil, notFHIR(r, nil, fmt.Sprintf("the server answered %s, not FHIR JSON; the body is %s", mt, describeBody(r.contentType, r.body)))
	}
	// The body is kept unmodified for the request log and the result's
	// entries, so the tree can share it rather than a copy.
	root, err := parseJSON(aliasString(r.body))
	if err != nil {
		return nil, notFHIR(r, fmt.Errorf("%w: %w", ErrNotFHIR, err), "the answer is not valid JSON: "+err.Error())
	}
	if root.k != kObject || root.str("resourceType") == "" {
		return nil, notFHIR(r, nil, "the answer is JSON but not a FHIR resource (it has no resourceType)")
	}
	return &root, nil
}

// outcomeError turns an OperationOutcome that came instead of the resource
// asked for into an error.
func outcomeError(r *reply, root *node, wanted string) *HTTPError {
	oo := outcomeFrom(root)
	e := &HTTPError{Status: r.status, URL: RedactURL(r.url), ContentType: r.contentType, Outcome: oo,
		Message: "the server answered with an OperationOutcome instead of " + wanted, Err: ErrOperationOutcome}
	for _, is := range oo.Issues {
		if t := is.Text(); t != "" {
			e.Issues = append(e.Issues, t)
		}
	}
	return e
}
