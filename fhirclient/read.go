package fhirclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Read fetches one resource by type and id.
func (c *Client) Read(ctx context.Context, resourceType, id string) (*Entry, error) {
	if !validType(resourceType) {
		return nil, fmt.Errorf("read: %q is not a resource type", resourceType)
	}
	if id == "" || strings.ContainsAny(id, "/?#") {
		return nil, fmt.Errorf("read %s: %q is not a resource id", resourceType, id)
	}
	e, err := c.readURL(ctx, resourceType+"/"+url.PathEscape(id))
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", resourceType, id, err)
	}
	return e, nil
}

// ReadReference fetches the resource a reference points at: Type/id
// relative to the base, or an absolute URL on the same server. Contained
// (#id) and urn:uuid references cannot be fetched.
func (c *Client) ReadReference(ctx context.Context, ref string) (*Entry, error) {
	switch {
	case ref == "":
		return nil, fmt.Errorf("read reference: the reference is empty")
	case strings.HasPrefix(ref, "#"):
		return nil, fmt.Errorf("read reference %s: a contained resource lives inside the resource that refers to it", ref)
	case strings.HasPrefix(ref, "urn:"):
		return nil, fmt.Errorf("read reference %s: a %s reference points inside a Bundle, not at the server", ref, ref[:strings.IndexByte(ref[4:], ':')+4])
	}
	e, err := c.readURL(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("read reference %s: %w", RedactURL(ref), err)
	}
	return e, nil
}

func (c *Client) readURL(ctx context.Context, target string) (*Entry, error) {
	r, root, err := c.getResource(ctx, target, false)
	if err != nil {
		return nil, err
	}
	if root.str("resourceType") == "OperationOutcome" && !strings.Contains(target, "OperationOutcome") {
		return nil, outcomeError(r, root, "the resource")
	}
	e := singleEntry(r.body, root, c.Version())
	e.FullURL = RedactURL(r.url)
	return &e, nil
}

// singleEntry makes an Entry of a lone resource.
func singleEntry(data []byte, root *node, v Version) Entry {
	if v == VersionUnknown {
		v = guessResourceVersion(root)
	}
	end := int(root.pos) + len(root.s)
	return Entry{ResourceType: root.str("resourceType"), ID: root.str("id"),
		Resource: json.RawMessage(data[root.pos:end:end]), res: root, st: &entryState{version: v}}
}

func guessResourceVersion(root *node) Version {
	v := VersionUnknown
	root.get("meta").get("profile").each(func(p *node) {
		switch s := p.text(); {
		case v != VersionUnknown:
		case strings.Contains(s, "/STU3/") || strings.Contains(s, "CareConnect-"):
			v = STU3
		case strings.Contains(s, "/R4/") || strings.Contains(s, "UKCore-"):
			v = R4
		}
	})
	return v
}

// BinaryContent is the content of a Binary resource or an attachment.
type BinaryContent struct {
	ContentType string
	Data        []byte
	Source      string // where it came from: a URL, or "inline"
}

// Binary fetches a Binary resource's content. The client asks for the
// FHIR JSON form (base64 data, STU3 "content" or R4 "data") and accepts
// the raw form too, as servers differ in which one they send.
func (c *Client) Binary(ctx context.Context, id string) (*BinaryContent, error) {
	if id == "" || strings.ContainsAny(id, "/?#") {
		return nil, fmt.Errorf("read Binary: %q is not a resource id", id)
	}
	bc, err := c.binaryURL(ctx, "Binary/"+url.PathEscape(id), "")
	if err != nil {
		return nil, fmt.Errorf("read Binary/%s: %w", id, err)
	}
	return bc, nil
}

// binaryURL fetches content: a FHIR Binary resource (decoded) or anything
// else (as it is).
func (c *Client) binaryURL(ctx context.Context, target, contentType string) (*BinaryContent, error) {
	accept := acceptFHIR + ", " + acceptLegacy + ";q=0.9, */*;q=0.5"
	if c.legacy.Load() {
		accept = acceptLegacy + ", */*;q=0.5"
	}
	if contentType != "" && !isJSONType(mediaType(contentType)) {
		accept += ", " + contentType + ";q=0.8"
	}
	r, err := c.fetch(ctx, target, accept)
	if err != nil {
		return nil, err
	}
	if r.status/100 != 2 {
		return nil, newStatusError(r, false)
	}
	mt := mediaType(r.contentType)
	if isJSONType(mt) && looksJSON(r.body) {
		root, err := parseJSON(string(r.body))
		if err == nil {
			switch root.str("resourceType") {
			case "Binary":
				data, err := decodeBase64(root.str("data") + root.str("content"))
				if err != nil {
					return nil, notFHIR(r, nil, "the Binary's data is not valid base64: "+err.Error())
				}
				return &BinaryContent{ContentType: root.str("contentType"), Data: data, Source: RedactURL(r.url)}, nil
			case "OperationOutcome":
				return nil, outcomeError(r, &root, "the content")
			}
		}
	}
	return &BinaryContent{ContentType: r.contentType, Data: r.body, Source: RedactURL(r.url)}, nil
}

// decodeBase64 decodes base64 with or without padding and line breaks.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\n', '\r', '\t':
			return -1
		}
		return r
	}, s)
	s = strings.TrimRight(s, "=")
	return base64.RawStdEncoding.DecodeString(s)
}

// Attachment is a FHIR Attachment, such as a DocumentReference's content.
type Attachment struct {
	ContentType string
	Language    string
	Title       string
	URL         string
	Creation    string
	Size        int64  // as the attachment states it; -1 when it does not
	Data        []byte // inline data, decoded
	HasData     bool
	DataError   string // why inline data could not be decoded
}

// Attachments returns a DocumentReference's attachments (content[].
// attachment), or the attachments anywhere at the top level of another
// resource (a Media's content, a DiagnosticReport's presentedForm).
func Attachments(e Entry) []Attachment {
	var out []Attachment
	if e.res == nil {
		return nil
	}
	add := func(a *node) {
		at := Attachment{ContentType: a.str("contentType"), Language: a.str("language"), Title: a.str("title"),
			URL: a.str("url"), Creation: a.str("creation"), Size: -1}
		if s := a.get("size"); s != nil {
			if n, err := strconv.ParseInt(s.text(), 10, 64); err == nil {
				at.Size = n
			}
		}
		if d := a.get("data"); d != nil {
			at.HasData = true
			data, err := decodeBase64(d.text())
			if err != nil {
				at.DataError = "the inline data is not valid base64: " + err.Error()
			} else {
				at.Data = data
			}
		}
		out = append(out, at)
	}
	switch e.ResourceType {
	case "DocumentReference":
		e.res.get("content").each(func(c *node) {
			if a := c.get("attachment"); a != nil {
				add(a)
			}
		})
	default:
		for _, name := range []string{"content", "presentedForm", "photo"} {
			e.res.get(name).each(func(a *node) {
				if a.k == kObject && (a.get("contentType") != nil || a.get("url") != nil || a.get("data") != nil) {
					add(a)
				}
			})
		}
	}
	return out
}

// AttachmentContent returns an attachment's content: its inline data, or
// what its url points at on the same server (a Binary resource or raw
// content). A url on another origin fails with ErrCrossOrigin, as the
// token must not go there.
func (c *Client) AttachmentContent(ctx context.Context, a Attachment) (*BinaryContent, error) {
	if a.HasData {
		if a.DataError != "" {
			return nil, fmt.Errorf("attachment %s: %s", a.Title, a.DataError)
		}
		return &BinaryContent{ContentType: a.ContentType, Data: a.Data, Source: "inline"}, nil
	}
	if a.URL == "" {
		return nil, fmt.Errorf("attachment %s: it has neither data nor a url", a.Title)
	}
	if strings.HasPrefix(a.URL, "urn:") || strings.HasPrefix(a.URL, "#") {
		return nil, fmt.Errorf("attachment %s: %s points inside a Bundle or resource, not at the server", a.Title, a.URL)
	}
	bc, err := c.binaryURL(ctx, a.URL, a.ContentType)
	if err != nil {
		return nil, fmt.Errorf("attachment %s: %w", a.Title, err)
	}
	if bc.ContentType == "" {
		bc.ContentType = a.ContentType
	}
	return bc, nil
}
