package fhirclient

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors for the states the UI reacts to; match them with
// errors.Is.
var (
	ErrUnauthorized     = errors.New("the server did not accept the token")
	ErrForbidden        = errors.New("the token does not allow this")
	ErrNotFound         = errors.New("not found")
	ErrGone             = errors.New("the resource has been deleted")
	ErrPageExpired      = errors.New("the server no longer has this search's pages; run the search again")
	ErrRateLimited      = errors.New("the server is limiting the rate of requests")
	ErrServer           = errors.New("the server failed")
	ErrNotFHIR          = errors.New("the answer is not FHIR JSON")
	ErrOperationOutcome = errors.New("the server answered with an OperationOutcome")
	ErrTooLarge         = errors.New("the answer is too large")
	ErrTimeout          = errors.New("the server did not answer in time")
	ErrCrossOrigin      = errors.New("refused to send the token to another server")
	ErrNoPage           = errors.New("the bundle has no such page link")
	ErrXMLNotSupported  = errors.New("XML is not supported yet")
)

// HTTPError is an answer from a FHIR server that cannot be used: an error
// status, or a success whose body is not FHIR JSON.
type HTTPError struct {
	Status      int
	URL         string // redacted
	Message     string // plain-words summary
	Issues      []string
	Outcome     *OperationOutcome // the server's OperationOutcome, if it sent one
	Body        string            // the start of a non-FHIR body, redacted
	ContentType string
	RetryAfter  time.Duration // what a 429 or 503 asked for
	Err         error         // the sentinel error behind the answer
}

// Error says what went wrong in plain words, with the server's own
// OperationOutcome text or the start of its body.
func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
	if len(e.Issues) > 0 {
		msg += " — " + strings.Join(e.Issues, "; ")
	} else if e.Body != "" {
		msg += fmt.Sprintf(" (the body starts %q)", e.Body)
	}
	return msg
}

// Unwrap returns the sentinel error behind the answer (ErrUnauthorized,
// ErrPageExpired, ErrNotFHIR, ...).
func (e *HTTPError) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	return statusSentinel(e.Status)
}

func statusSentinel(status int) error {
	switch {
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusGone:
		return ErrGone
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500:
		return ErrServer
	}
	return nil
}

// newStatusError describes a non-success answer.
func newStatusError(r *reply, paging bool) *HTTPError {
	e := &HTTPError{Status: r.status, URL: RedactURL(r.url), ContentType: r.contentType, RetryAfter: r.retryAfter}
	e.Err = statusSentinel(r.status)
	switch {
	case paging && (r.status == http.StatusGone || r.status == http.StatusNotFound):
		e.Err = ErrPageExpired
		e.Message = fmt.Sprintf("the server no longer has this search's pages (it answered %d %s for the paging link); run the search again",
			r.status, http.StatusText(r.status))
	case e.Err != nil && r.status < 500:
		e.Message = e.Err.Error()
	case r.status >= 500:
		e.Message = "the server failed (" + strings.ToLower(http.StatusText(r.status)) + ")"
	default:
		e.Message = strings.ToLower(http.StatusText(r.status))
		if e.Message == "" {
			e.Message = "unexpected status"
		}
	}
	if r.retryAfter > 0 && (r.status == http.StatusTooManyRequests || r.status == http.StatusServiceUnavailable) {
		e.Message += fmt.Sprintf(" (it asked to wait %v)", r.retryAfter)
	}
	if oo := outcomeOf(r); oo != nil {
		e.Outcome = oo
		for _, is := range oo.Issues {
			if t := is.Text(); t != "" {
				e.Issues = append(e.Issues, t)
			}
		}
	} else {
		e.Body = snippet(r.body)
		if what := describeBody(r.contentType, r.body); what != "" {
			e.Message += "; the body is " + what
		}
	}
	return e
}

// outcomeOf decodes an OperationOutcome body, or returns nil.
func outcomeOf(r *reply) *OperationOutcome {
	if len(r.body) == 0 || !looksJSON(r.body) {
		return nil
	}
	root, err := parseJSON(string(r.body))
	if err != nil || root.str("resourceType") != "OperationOutcome" {
		return nil
	}
	return outcomeFrom(&root)
}

// notFHIR describes a success answer whose body cannot be used.
func notFHIR(r *reply, err error, msg string) *HTTPError {
	if err == nil {
		err = ErrNotFHIR
	}
	return &HTTPError{Status: r.status, URL: RedactURL(r.url), ContentType: r.contentType,
		Message: msg, Body: snippet(r.body), Err: err}
}

// mediaType returns the media type of a Content-Type, lower case.
func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	return mt
}

// isJSONType reports whether a media type is JSON.
func isJSONType(mt string) bool {
	return mt == "application/fhir+json" || mt == "application/json+fhir" || mt == "application/json" ||
		strings.HasSuffix(mt, "+json")
}

// isXMLType reports whether a media type is XML.
func isXMLType(mt string) bool {
	return mt == "application/fhir+xml" || mt == "application/xml+fhir" || mt == "application/xml" ||
		mt == "text/xml" || strings.HasSuffix(mt, "+xml")
}

func looksJSON(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

// describeBody says in plain words what a non-FHIR body is.
func describeBody(ct string, body []byte) string {
	mt := mediaType(ct)
	head := strings.ToLower(strings.TrimSpace(string(body[:min(len(body), 512)])))
	switch {
	case len(strings.TrimSpace(string(body))) == 0:
		return "empty"
	case mt == "text/html" || strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html") || strings.Contains(head, "<html"):
		return "an HTML page (a login page, or a proxy in the way?)"
	case isXMLType(mt) || strings.HasPrefix(head, "<?xml") || strings.HasPrefix(head, "<"):
		return "XML, which is not supported yet"
	case looksJSON(body):
		if _, err := parseJSON(string(body)); err != nil {
			return "JSON that does not parse (" + err.Error() + ")"
		}
		return "JSON that is not a FHIR resource"
	case strings.HasPrefix(mt, "text/"):
		return "plain text"
	}
	return "not FHIR JSON"
}

// maxSnippet bounds how much of a body an error quotes.
const maxSnippet = 160

// snippet returns the start of a body on one line, redacted.
func snippet(b []byte) string {
	s := string(b[:min(len(b), 4*maxSnippet)])
	s = strings.Join(strings.Fields(s), " ")
	return clip(Redact(s), maxSnippet)
}
