package fhirclient

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// LogEntry is one request as the request log shows it. URL, Header, Error
// and Note are redacted: no Authorization header, token or secret appears.
type LogEntry struct {
	Time        time.Time
	Method      string
	URL         string
	Header      http.Header // the request headers the client set
	Status      int         // 0 when no answer came
	Duration    time.Duration
	Bytes       int64 // the size of the answer's body
	ContentType string
	FHIRVersion string // the server's fhirVersion as far as the client knows it
	Error       string // why the request failed, if it did
	Note        string // retries, Accept fallbacks, redirects
}

// String renders the entry on one line.
func (e LogEntry) String() string {
	status := "---"
	if e.Status != 0 {
		status = fmt.Sprint(e.Status)
	}
	s := fmt.Sprintf("%s %s %s %s %v %dB", e.Time.Format("15:04:05.000"), e.Method, e.URL, status,
		e.Duration.Round(time.Millisecond), e.Bytes)
	if e.FHIRVersion != "" {
		s += " FHIR " + e.FHIRVersion
	}
	if e.Note != "" {
		s += " [" + e.Note + "]"
	}
	if e.Error != "" {
		s += " error: " + e.Error
	}
	return s
}

// RequestLog is a bounded ring buffer of requests, safe for concurrent
// use, that the window and the CLI show.
type RequestLog struct {
	mu   sync.Mutex
	buf  []LogEntry
	next int
	full bool
	subs map[int]func(LogEntry)
	seq  int
}

// DefaultLogSize is the capacity of a client's own request log.
const DefaultLogSize = 500

// NewRequestLog returns a log keeping the last capacity entries.
func NewRequestLog(capacity int) *RequestLog {
	if capacity < 1 {
		capacity = 1
	}
	return &RequestLog{buf: make([]LogEntry, capacity), subs: map[int]func(LogEntry){}}
}

// Add records an entry (redacting it again, in case the caller did not)
// and tells the subscribers.
func (l *RequestLog) Add(e LogEntry) {
	e.URL = RedactURL(e.URL)
	e.Header = RedactHeader(e.Header)
	e.Error = Redact(e.Error)
	e.Note = Redact(e.Note)
	l.mu.Lock()
	l.buf[l.next] = e
	l.next = (l.next + 1) % len(l.buf)
	if l.next == 0 {
		l.full = true
	}
	subs := make([]func(LogEntry), 0, len(l.subs))
	for _, fn := range l.subs {
		subs = append(subs, fn)
	}
	l.mu.Unlock()
	for _, fn := range subs {
		fn(e)
	}
}

// Entries returns the entries, oldest first.
func (l *RequestLog) Entries() []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.full {
		return append([]LogEntry(nil), l.buf[:l.next]...)
	}
	out := make([]LogEntry, 0, len(l.buf))
	out = append(out, l.buf[l.next:]...)
	return append(out, l.buf[:l.next]...)
}

// Len returns how many entries the log holds.
func (l *RequestLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.full {
		return len(l.buf)
	}
	return l.next
}

// Subscribe calls fn with every entry added from now on, on the goroutine
// that made the request, until the returned function is called.
func (l *RequestLog) Subscribe(fn func(LogEntry)) (unsubscribe func()) {
	l.mu.Lock()
	l.seq++
	id := l.seq
	l.subs[id] = fn
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		delete(l.subs, id)
		l.mu.Unlock()
	}
}

// redacted replaces secrets.
const redacted = "[redacted]"

// secretParams are query parameters whose values are never shown. "code"
// is an authorization code everywhere except in a FHIR search, where it is
// the most common search parameter (Observation?code=...); see RedactURL.
var secretParams = map[string]bool{
	"access_token": true, "refresh_token": true, "id_token": true, "token": true,
	"client_secret": true, "client_assertion": true, "assertion": true, "password": true,
	"code_verifier": true, "code": true, "api_key": true, "apikey": true, "secret": true,
	"sig": true, "signature": true, "x-amz-signature": true, "x-amz-credential": true,
}

// RedactURL removes user information and the values of secret query
// parameters (access_token, client_secret, code, ...) from a URL, and
// anything in it that looks like a token. A code parameter is kept in a
// FHIR search (a path ending in a resource type such as /Observation),
// where it is a search parameter, not an authorization code.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Redact(raw)
	}
	u.User = nil
	if u.RawQuery != "" {
		search := isFHIRSearchPath(u.Path)
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			k, _, _ := strings.Cut(p, "=")
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			name = strings.ToLower(name)
			if name == "code" && search {
				continue
			}
			if secretParams[name] {
				parts[i] = k + "=" + redacted
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return Redact(u.String())
}

// isFHIRSearchPath reports whether a URL path ends in a resource type.
func isFHIRSearchPath(p string) bool {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	return validType(p)
}

var (
	reBearer = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)([A-Za-z0-9\-._~+/]+=*)`)
	reAuth   = regexp.MustCompile(`(?i)\b(authorization["']?\s*[:=]\s*["']?(?:bearer\s+|basic\s+)?)[^\s"',;]+`)
	reJWT    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
	reSecret = regexp.MustCompile(`(?i)((?:access_token|refresh_token|id_token|client_secret|password|client_assertion)["']?\s*[:=]\s*["']?)[^"'&\s,}]+`)
)

// Redact replaces anything in s that looks like a credential: the value of
// an Authorization header, a bearer or basic token, a JWT, or a secret
// assignment (client_secret=..., "access_token": "...").
func Redact(s string) string {
	if s == "" {
		return s
	}
	s = reAuth.ReplaceAllString(s, "${1}"+redacted)
	s = reBearer.ReplaceAllStringFunc(s, func(m string) string {
		sub := reBearer.FindStringSubmatch(m)
		if !looksLikeCredential(sub[3]) {
			return m // "Basic resource", `Bearer realm="x"`
		}
		return sub[1] + sub[2] + redacted
	})
	s = reJWT.ReplaceAllString(s, redacted)
	return reSecret.ReplaceAllString(s, "${1}"+redacted)
}

// looksLikeCredential tells a token from a word: at least 8 characters
// with a digit, token punctuation, or capitals inside (base64).
func looksLikeCredential(s string) bool {
	if len(s) < 8 {
		return false
	}
	return strings.ContainsAny(s, "0123456789-._~+/=") || strings.ContainsAny(s[1:], "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
}

// RedactHeader copies h with credentials replaced.
func RedactHeader(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key":
			out[k] = []string{redacted}
		default:
			c := make([]string, len(vs))
			for i, v := range vs {
				c[i] = Redact(v)
			}
			out[k] = c
		}
	}
	return out
}

// minSentCredential is the shortest credential redactSent looks for; a
// shorter one would match ordinary text.
const minSentCredential = 8

// sentCredentials returns the credentials a request's Authorization header
// carried: a Bearer (or other) token, or a Basic header's encoded value and
// its password.
func sentCredentials(h http.Header) []string {
	var out []string
	for _, v := range h.Values("Authorization") {
		scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
		if !ok {
			cred = scheme
		}
		cred = strings.TrimSpace(cred)
		out = append(out, cred)
		if strings.EqualFold(scheme, "basic") {
			if b, err := base64.StdEncoding.DecodeString(cred); err == nil {
				if _, pw, ok := strings.Cut(string(b), ":"); ok {
					out = append(out, pw)
				}
			}
		}
	}
	return out
}

// redactSent replaces every occurrence of the credentials in an answer's
// body (a server that echoes the request's Authorization header, in an
// error page, an OperationOutcome or a resource).
//
// It never modifies body in place: parse trees share response bodies
// (aliasString), so a change must make a new slice, as it does.
//
// It gives the same result as applying, for each credential in turn,
// bytes.ReplaceAll(body, cred, "[redacted]") to the previous result when
// bytes.Contains finds it: body itself, untouched, when no credential
// occurs, otherwise a new slice. It is faster because it searches for a
// short tail of the credential (see sentNeedle) and compares the whole
// credential only where the tail occurs.
func redactSent(body []byte, creds []string) []byte {
	var buf [8]int
	for _, c := range creds {
		if len(c) < minSentCredential {
			continue
		}
		at := findSent(buf[:0], body, c)
		if len(at) == 0 {
			continue
		}
		out := make([]byte, len(body)+len(at)*(len(redacted)-len(c)))
		w, start := 0, 0
		for _, j := range at {
			w += copy(out[w:], body[start:j])
			w += copy(out[w:], redacted)
			start = j + len(c)
		}
		copy(out[w:], body[start:])
		body = out
	}
	return body
}

// sentNeedle is the length of the slice of a credential that findSent
// searches for. bytes.Index searches for a needle of at most 31 bytes with
// SIMD on every amd64 (and arm64) CPU, but falls back to Rabin–Karp, about
// 30 times slower, for a long one such as a JWT.
const sentNeedle = 31

// sentWindow is how far from a credential's end findSent's needle may
// start. Near the end of a JWT is its signature, random base64: 31 bytes
// of it are practically never in an answer that does not hold the token.
const sentWindow = 64

// byteRank estimates how common each byte is in FHIR JSON, from 0 (rare:
// QZXJ..., "_") to 3 (common: lower-case vowels, digits, JSON punctuation).
// bytes.Index skips ahead with IndexByte on the needle's first byte, at
// tens of GB/s when that byte is rare, and at a few GB/s when it is common.
var byteRank = func() (r [256]uint8) {
	for i := range r {
		r[i] = 1
	}
	for _, c := range "ABCDEFGHILMNOPRST" + "bcdfghlmpu" + "=/()" {
		r[c] = 2
	}
	for _, c := range "0123456789" + "aeionrst" + "\"-.:,{}[] \n\t\r" {
		r[c] = 3
	}
	for _, c := range "QZXJKVWY" + "qzjx" + "_~^`|" {
		r[c] = 0
	}
	return r
}()

// sentNeedleAt returns where in cred findSent's needle starts: within the
// last sentWindow+sentNeedle bytes, the start whose first two bytes are the
// rarest (see byteRank), the one nearest the end among equals.
func sentNeedleAt(cred string) int {
	last := len(cred) - min(len(cred), sentNeedle)
	best, score := last, 1<<8
	for o := last; o >= 0 && o > last-sentWindow; o-- {
		s := int(byteRank[cred[o]]) << 2
		if o+1 < len(cred) {
			s += int(byteRank[cred[o+1]])
		}
		if s < score {
			best, score = o, s
		}
	}
	return best
}

// findSent appends to at the offsets in body of the occurrences of cred
// that bytes.ReplaceAll replaces: from the left, not overlapping. It
// searches for a short needle cut from cred (see sentNeedleAt) and
// compares the whole credential at each hit; where the needle occurs too
// often without the rest (a hostile body), it goes on with bytes.Index on
// the whole credential, which stays linear.
func findSent(at []int, body []byte, cred string) []int {
	o := sentNeedleAt(cred) // the needle's offset in cred
	needle := []byte(cred[o : o+min(len(cred), sentNeedle)])
	fails := 0
	i := 0 // the first offset an occurrence may start at
	for i+len(cred) <= len(body) {
		h := bytes.Index(body[i+o:], needle)
		if h < 0 {
			break
		}
		j := i + h // where cred would start
		if j+len(cred) > len(body) {
			break // and so would every later hit
		}
		if string(body[j:j+len(cred)]) == cred {
			at = append(at, j)
			i = j + len(cred)
			continue
		}
		i = j + 1
		// Each failed comparison costs up to len(cred) bytes: give up on
		// the needle once they add up to more than the bytes scanned.
		if fails++; fails > 4+i/len(cred) {
			whole := []byte(cred)
			for i+len(cred) <= len(body) {
				h := bytes.Index(body[i:], whole)
				if h < 0 {
					break
				}
				at = append(at, i+h)
				i += h + len(cred)
			}
			break
		}
	}
	return at
}
