package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// FHIR JSON media types: the current one and the STU3-era one.
const (
	mediaFHIRJSON       = "application/fhir+json"
	mediaFHIRJSONLegacy = "application/json+fhir"
)

// grant is what a verified access token allows.
type grant struct {
	scopes   []string
	clientID string
	subject  string
}

// serveFHIR serves everything under the FHIR base.
func (s *Server) serveFHIR(w http.ResponseWriter, r *http.Request) {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, fhirPath), "/")
	var segs []string
	if rest != "" {
		segs = strings.Split(rest, "/")
	}
	if msg, bad := unacceptable(r); bad {
		s.writeOutcome(w, r, http.StatusNotAcceptable, "not-supported", msg)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.writeOutcome(w, r, http.StatusMethodNotAllowed, "not-supported",
			"The sandbox is read-only: "+r.Method+" is not allowed here; use GET (read and search).")
		return
	}
	if len(segs) == 1 && segs[0] == "metadata" {
		s.serveCapabilityStatement(w, r)
		return
	}
	if len(segs) > 0 && segs[0] == ".well-known" {
		s.writeOutcome(w, r, http.StatusNotFound, "not-found",
			"This server does not publish "+r.URL.Path+"; its OAuth2 endpoints are in the CapabilityStatement ("+s.fhirBase+"/metadata).")
		return
	}
	g, err := s.authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="ccri-fhir", error="invalid_token", error_description=%q`, err.Error()))
		code := "login"
		if errors.Is(err, errTokenExpired) {
			code = "expired"
		}
		s.writeOutcome(w, r, http.StatusUnauthorized, code, "Authentication failed: "+err.Error()+".")
		return
	}
	if len(segs) == 0 {
		s.writeOutcome(w, r, http.StatusBadRequest, "not-supported",
			"Searching across all resource types is not supported; search one type, e.g. "+s.fhirBase+"/Patient.")
		return
	}
	typ := segs[0]
	if _, known := searchParams[typ]; !known {
		s.writeOutcome(w, r, http.StatusNotFound, "not-supported",
			fmt.Sprintf("Unknown resource type %q. The sandbox serves %s.", typ, strings.Join(resourceTypes, ", ")))
		return
	}
	switch {
	case len(segs) == 1:
		if !s.allowed(w, r, g, typ, accessSearch) {
			return
		}
		s.serveSearch(w, r, g, typ)
	case len(segs) == 2 && !strings.HasPrefix(segs[1], "_") && !strings.HasPrefix(segs[1], "$"):
		if !s.allowed(w, r, g, typ, accessRead) {
			return
		}
		s.serveRead(w, r, typ, segs[1])
	default:
		s.writeOutcome(w, r, http.StatusNotFound, "not-supported",
			fmt.Sprintf("%s is not supported: the sandbox offers read (%s/[id]) and search (%s?...) only.", r.URL.Path, typ, typ))
	}
}

// unacceptable reports a request for XML (or another format the sandbox does not produce).
func unacceptable(r *http.Request) (string, bool) {
	if ct := r.Header.Get("Content-Type"); strings.Contains(strings.ToLower(ct), "xml") {
		return "XML is not supported: the sandbox speaks FHIR JSON (" + mediaFHIRJSON + ") only.", true
	}
	if f := strings.ToLower(r.URL.Query().Get(paramFormat)); f != "" {
		switch f {
		case "json", mediaFHIRJSON, mediaFHIRJSONLegacy, "application/json":
			return "", false
		}
		return fmt.Sprintf("_format=%s is not supported: the sandbox speaks FHIR JSON (_format=json) only.", f), true
	}
	accept := r.Header.Get("Accept")
	if accept == "" {
		return "", false
	}
	sawXML := false
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
				continue
			}
		}
		switch {
		case strings.Contains(mt, "json"), mt == "*/*", mt == "application/*":
			return "", false
		case strings.Contains(mt, "xml"):
			sawXML = true
		}
	}
	if sawXML {
		return "XML is not supported: ask for " + mediaFHIRJSON + " (or " + mediaFHIRJSONLegacy + ").", true
	}
	return "", false
}

// responseType echoes the STU3-era media type to clients that asked only for it.
func responseType(r *http.Request) string {
	a := r.Header.Get("Accept")
	if strings.Contains(a, mediaFHIRJSONLegacy) && !strings.Contains(a, mediaFHIRJSON) {
		return mediaFHIRJSONLegacy + "; charset=utf-8"
	}
	return mediaFHIRJSON + "; charset=utf-8"
}

// authenticate verifies the request's bearer token.
func (s *Server) authenticate(r *http.Request) (*grant, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, errTokenMissing
	}
	c, _, err := s.verifyAccessToken(strings.TrimSpace(token))
	if err != nil {
		return nil, err
	}
	return &grant{scopes: strings.Fields(c.Scope), clientID: c.ClientID, subject: c.Subject}, nil
}

// allowed writes a 403 and returns false if the grant may not access typ.
func (s *Server) allowed(w http.ResponseWriter, r *http.Request, g *grant, typ string, a access) bool {
	if mayAccess(s.cfg.Policy, g.scopes, typ, a) {
		return true
	}
	need := neededScopes(s.cfg.Policy, typ, a)
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="ccri-fhir", error="insufficient_scope", scope=%q`, need[0]))
	s.writeOutcome(w, r, http.StatusForbidden, "forbidden", fmt.Sprintf(
		"The access token does not allow reading %s: it needs scope %s (%s policy; granted: %s).",
		typ, strings.Join(need, " or "), s.cfg.Policy, orNone(g.scopes)))
	return false
}

func orNone(scopes []string) string {
	if len(scopes) == 0 {
		return "none"
	}
	return strings.Join(scopes, " ")
}

func (s *Server) serveRead(w http.ResponseWriter, r *http.Request, typ, id string) {
	rec := s.data.lookup(typ, id)
	if rec == nil {
		s.writeOutcome(w, r, http.StatusNotFound, "not-found", fmt.Sprintf("%s/%s is not known to this server.", typ, id))
		return
	}
	if typ == typeBinary && !wantsFHIRJSON(r) {
		w.Header().Set("Content-Type", rec.data.(*binaryData).contentType)
		_, _ = w.Write(s.data.binaryRaw(rec))
		return
	}
	b, err := s.data.resourceJSON(&s.cache, rec)
	if err != nil {
		s.writeOutcome(w, r, http.StatusInternalServerError, "exception", "Rendering "+rec.ref()+" failed: "+err.Error())
		return
	}
	s.writeFHIR(w, r, http.StatusOK, b)
}

// wantsFHIRJSON reports whether a Binary read asked for the resource rather than its raw content.
func wantsFHIRJSON(r *http.Request) bool {
	if r.URL.Query().Get(paramFormat) != "" {
		return true
	}
	a := r.Header.Get("Accept")
	return strings.Contains(a, mediaFHIRJSON) || strings.Contains(a, mediaFHIRJSONLegacy) || strings.Contains(a, "application/json")
}

func (s *Server) writeFHIR(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	w.Header().Set("Content-Type", responseType(r))
	if r.URL.Query().Get(paramPretty) == "true" {
		var buf bytes.Buffer
		if json.Indent(&buf, body, "", "  ") == nil {
			body = buf.Bytes()
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// outcomeJSON builds an OperationOutcome with one error issue.
func outcomeJSON(severity, code, diagnostics string) []byte {
	o := obj{"resourceType": "OperationOutcome", "issue": []any{
		obj{"severity": severity, "code": code, "diagnostics": diagnostics},
	}}
	if b, err := toFHIRJSON(o); err == nil {
		return b
	}
	b, _ := json.Marshal(o)
	return b
}

// writeOutcome writes an error as a FHIR OperationOutcome.
func (s *Server) writeOutcome(w http.ResponseWriter, r *http.Request, status int, code, diagnostics string) {
	s.writeFHIR(w, r, status, outcomeJSON("error", code, diagnostics))
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type bundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource"`
	Search   struct {
		Mode string `json:"mode"`
	} `json:"search"`
}

type bundle struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Meta         struct {
		LastUpdated string `json:"lastUpdated"`
	} `json:"meta"`
	Type  string        `json:"type"`
	Total int           `json:"total"`
	Link  []bundleLink  `json:"link"`
	Entry []bundleEntry `json:"entry,omitempty"`
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (s *Server) serveSearch(w http.ResponseWriter, r *http.Request, g *grant, typ string) {
	q, err := parseQuery(typ, r.URL.Query())
	if err != nil {
		s.writeOutcome(w, r, http.StatusBadRequest, "invalid", "Bad search: "+err.Error())
		return
	}
	body, err := s.searchBundle(q, g, r.URL.RawQuery)
	if err != nil {
		s.writeOutcome(w, r, http.StatusInternalServerError, "exception", "Search failed: "+err.Error())
		return
	}
	s.writeFHIR(w, r, http.StatusOK, body)
}

// pageURL is the URL of the page of q starting at offset.
func (s *Server) pageURL(q *query, offset int) string {
	v := url.Values{}
	for k, vs := range q.canonical {
		v[k] = vs
	}
	v.Set(paramCount, strconv.Itoa(q.count))
	v.Set(paramOffset, strconv.Itoa(offset))
	return s.fhirBase + "/" + q.typ + "?" + v.Encode()
}

// searchBundle runs q and assembles the searchset Bundle from cached per-resource JSON.
func (s *Server) searchBundle(q *query, g *grant, rawQuery string) ([]byte, error) {
	matches := q.run(s.data)
	b := bundle{ResourceType: "Bundle", ID: newID(), Type: "searchset", Total: len(matches)}
	b.Meta.LastUpdated = s.now().UTC().Format("2006-01-02T15:04:05Z07:00")
	self := s.fhirBase + "/" + q.typ
	if rawQuery != "" {
		self += "?" + rawQuery
	}
	b.Link = append(b.Link, bundleLink{"self", self})
	start := min(q.offset, len(matches))
	end := min(start+q.count, len(matches))
	page := matches[start:end]
	if q.count > 0 {
		b.Link = append(b.Link, bundleLink{"first", s.pageURL(q, 0)})
		if start > 0 {
			b.Link = append(b.Link, bundleLink{"previous", s.pageURL(q, max(0, start-q.count))})
		}
		if end < len(matches) {
			b.Link = append(b.Link, bundleLink{"next", s.pageURL(q, end)})
		}
		last := 0
		if len(matches) > 0 {
			last = (len(matches) - 1) / q.count * q.count
		}
		b.Link = append(b.Link, bundleLink{"last", s.pageURL(q, last)})
	}
	// Choose the entries first, then serialise them together: the uncached ones in parallel.
	recs := slices.Clone(page)
	seen := make(map[*record]bool, len(page))
	for _, rec := range page {
		seen[rec] = true
	}
	var withheld []string
	follow := func(defs []includeDef, param string) {
		for _, def := range defs {
			var denied []string
			for _, t := range def.targets {
				if !mayAccess(s.cfg.Policy, g.scopes, t, accessRead) {
					denied = append(denied, t)
				}
			}
			if len(denied) > 0 {
				withheld = append(withheld, fmt.Sprintf("%s=%s: %s resources are left out because the token does not allow reading them (needs %s)",
					param, def.spec, strings.Join(denied, ", "), neededScopes(s.cfg.Policy, denied[0], accessRead)[0]))
			}
			for _, rec := range page {
				for _, inc := range def.follow(s.data, rec) {
					if inc == nil || seen[inc] || slices.Contains(denied, inc.typ) {
						continue
					}
					seen[inc] = true
					recs = append(recs, inc)
				}
			}
		}
	}
	follow(q.includes, paramInclude)
	follow(q.revIncludes, paramRevInclude)
	js, err := s.data.resourceJSONs(&s.cache, recs)
	if err != nil {
		return nil, err
	}
	b.Entry = make([]bundleEntry, len(recs), len(recs)+1)
	for i, rec := range recs {
		e := &b.Entry[i]
		e.FullURL = s.fhirBase + "/" + rec.ref()
		e.Resource = js[i]
		e.Search.Mode = "include"
		if i < len(page) {
			e.Search.Mode = "match"
		}
	}
	if len(withheld) > 0 {
		e := bundleEntry{Resource: outcomeJSON("warning", "suppressed", strings.Join(withheld, "; ")+".")}
		e.Search.Mode = "outcome"
		b.Entry = append(b.Entry, e)
	}
	return encodeBundle(&b)
}

// encodeBundle writes b as JSON, exactly as encoding/json would. The
// envelope goes through encoding/json, but the entries are written by
// hand: encoding/json validates and compacts every json.RawMessage again,
// which was 40% of the sandbox's CPU time under load (make bench, figure
// 6), and the cached resources are compact JSON already.
func encodeBundle(b *bundle) ([]byte, error) {
	entries := b.Entry
	head := *b
	head.Entry = nil // omitted
	size := 512
	for _, e := range entries {
		size += len(e.FullURL) + len(e.Resource) + 48
	}
	out := bytes.NewBuffer(make([]byte, 0, size))
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	str := func(s string) error { // a JSON string, without Encode's newline
		if err := enc.Encode(s); err != nil {
			return err
		}
		out.Truncate(out.Len() - 1)
		return nil
	}
	if err := enc.Encode(head); err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	if len(entries) == 0 {
		return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
	}
	out.Truncate(out.Len() - 2) // "}\n"
	out.WriteString(`,"entry":[`)
	for i, e := range entries {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteByte('{')
		if e.FullURL != "" {
			out.WriteString(`"fullUrl":`)
			if err := str(e.FullURL); err != nil {
				return nil, fmt.Errorf("encode bundle: %w", err)
			}
			out.WriteByte(',')
		}
		out.WriteString(`"resource":`)
		if len(e.Resource) == 0 {
			out.WriteString("null")
		} else {
			out.Write(e.Resource)
		}
		out.WriteString(`,"search":{"mode":`)
		if err := str(e.Search.Mode); err != nil {
			return nil, fmt.Errorf("encode bundle: %w", err)
		}
		out.WriteString("}}")
	}
	out.WriteString("]}")
	return out.Bytes(), nil
}
