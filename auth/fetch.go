package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// MaxDocumentSize bounds every discovery, JWKS and revocation response body
// the package reads.
const MaxDocumentSize = 1 << 20

// errTooLarge is reported when a document exceeds MaxDocumentSize.
var errTooLarge = fmt.Errorf("the answer is larger than %d KiB", MaxDocumentSize>>10)

// fetched is one bounded GET of a JSON document.
type fetched struct {
	status      int
	contentType string
	body        []byte
}

func httpClient(c *http.Client) *http.Client {
	if c == nil {
		return http.DefaultClient
	}
	return c
}

// getDocument GETs url with the given Accept header and reads at most
// MaxDocumentSize bytes. A non-nil error means there was no complete answer;
// the status may still be set.
func getDocument(ctx context.Context, client *http.Client, url, accept string) (fetched, error) {
	var f fetched
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return f, fmt.Errorf("bad URL: %w", err)
	}
	req.Header.Set("Accept", accept)
	resp, err := httpClient(client).Do(req)
	if err != nil {
		return f, contextError(err)
	}
	defer resp.Body.Close()
	f.status = resp.StatusCode
	f.contentType = resp.Header.Get("Content-Type")
	f.body, err = readBounded(resp.Body)
	return f, err
}

func readBounded(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxDocumentSize+1))
	if err != nil {
		return nil, contextError(err)
	}
	if len(b) > MaxDocumentSize {
		return nil, errTooLarge
	}
	return b, nil
}

// problem explains in plain words why a fetched document is not usable JSON,
// or returns "" when it is a JSON object.
func (f fetched) problem() string {
	mt, _, _ := mime.ParseMediaType(f.contentType)
	trimmed := bytes.TrimSpace(f.body)
	looksHTML := strings.Contains(mt, "html") || bytes.HasPrefix(trimmed, []byte("<"))
	switch {
	case f.status == http.StatusNotFound:
		return "not found (HTTP 404)"
	case f.status < 200 || f.status > 299:
		s := fmt.Sprintf("HTTP %d %s", f.status, http.StatusText(f.status))
		if looksHTML {
			s += " with an HTML page"
		}
		return s
	case looksHTML:
		return fmt.Sprintf("answered with an HTML page, not JSON (content type %q)", f.contentType)
	case len(trimmed) == 0:
		return "answered with an empty body"
	case trimmed[0] != '{':
		if json.Valid(trimmed) {
			return "answered with JSON that is not an object"
		}
		return "answered with something that is not JSON: " + quoteStart(trimmed)
	}
	if err := json.Unmarshal(trimmed, new(map[string]json.RawMessage)); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, err)
		}
		return "malformed JSON: " + err.Error()
	}
	return ""
}

func quoteStart(b []byte) string {
	return fmt.Sprintf("%q", shorten(string(b), 40))
}
