package ui

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// TestDetailsOfNonConformantObservation opens the CCRI's body mass index
// Observation: its tree, its JSON, its warnings, copying.
func TestDetailsOfNonConformantObservation(t *testing.T) {
	h := newBrowserHarness(t, nil)
	h.b.openFile(resultsObservationFile(t))
	h.waitShown()
	code := slices.Index(h.b.data.Columns, "Code")
	row := -1
	for i, r := range h.b.data.Rows {
		if r[code] == "Observation of body mass index" {
			row = i
		}
	}
	if row < 0 {
		t.Fatal("no body mass index row")
	}
	h.b.table.Select(widget.TableCellID{Row: row, Col: code + 1})
	h.waitDetails()
	p := h.b.details
	if got := p.title.Text; got != "urn:uuid:00000000-0000-4000-8000-000000000002" {
		t.Errorf("title = %q", got)
	}
	for _, want := range []string{"Conformance warnings (", `Observation.category`, `Observation.performer`, "expected array"} {
		if !strings.Contains(p.warnings.Text, want) {
			t.Errorf("warnings %q lack %q", p.warnings.Text, want)
		}
	}
	if !strings.Contains(p.json.Text, `"resourceType": "Observation"`) {
		t.Errorf("JSON = %.200q", p.json.Text)
	}
	browserGolden(t, h, "details.xml")

	clip := fyne.CurrentApp().Clipboard()
	test.Tap(p.copyJSON)
	if got := clip.Content(); got != p.json.Text || !strings.HasPrefix(got, "{\n  \"resourceType\"") {
		t.Errorf("Copy JSON gave %.80q", got)
	}
	p.tree.Select("code.coding[0].code")
	test.Tap(p.copyNode)
	if got := clip.Content(); got != "301331008" {
		t.Errorf("copying code.coding[0].code gave %q", got)
	}
	p.tree.Select("category")
	test.Tap(p.copyNode)
	if got := clip.Content(); !strings.HasPrefix(got, "{\n  \"coding\": [") {
		t.Errorf("copying category gave %.80q", got)
	}
}

// TestDetailsTree turns JSON into tree nodes, in the JSON's order, and
// finds the references.
func TestDetailsTree(t *testing.T) {
	raw := []byte(`{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/1","display":"Anna Smith"},
		"performer":[{"reference":"Practitioner/7"},{"display":"no reference"}],"valueQuantity":{"value":16.20,"unit":"kg/m2"},
		"issued":null,"flag":true}`)
	nodes, refs := detailsTree(raw)
	tests := []struct {
		id, label, value string
		kids             []string
	}{
		{id: "", kids: []string{"resourceType", "id", "subject", "performer", "valueQuantity", "issued", "flag"}},
		{id: "subject", label: "subject → Patient/1", kids: []string{"subject.reference", "subject.display"}},
		{id: "subject.display", label: "display: Anna Smith", value: "Anna Smith"},
		{id: "performer", label: "performer (2)", kids: []string{"performer[0]", "performer[1]"}},
		{id: "performer[0]", label: "performer[0] → Practitioner/7", kids: []string{"performer[0].reference"}},
		{id: "valueQuantity.value", label: "value: 16.20", value: "16.20"},
		{id: "issued", label: "issued: null", value: "null"},
		{id: "flag", label: "flag: true", value: "true"},
	}
	for _, tt := range tests {
		n := nodes[tt.id]
		if n == nil {
			t.Errorf("no node %q", tt.id)
			continue
		}
		if tt.id != "" && n.label != tt.label {
			t.Errorf("node %q label = %q, want %q", tt.id, n.label, tt.label)
		}
		if tt.value != "" && n.value != tt.value {
			t.Errorf("node %q value = %q, want %q", tt.id, n.value, tt.value)
		}
		if tt.kids != nil && !slices.Equal(n.kids, tt.kids) {
			t.Errorf("node %q children = %v, want %v", tt.id, n.kids, tt.kids)
		}
	}
	want := []detailsRef{{"subject", "Patient/1", "Anna Smith"}, {"performer[0]", "Practitioner/7", ""}}
	if !slices.Equal(refs, want) {
		t.Errorf("references = %v, want %v", refs, want)
	}
}

// TestDetailsRefType reads the resource type from references.
func TestDetailsRefType(t *testing.T) {
	tests := map[string]string{
		"Patient/1":                              "Patient",
		"http://fhir.test/STU3/Patient/1":        "Patient",
		"Patient/1/_history/2":                   "Patient",
		"http://fhir.test/STU3/Organization/B82": "Organization",
		"1":                                      "",
	}
	for ref, want := range tests {
		if got := detailsRefType(ref); got != want {
			t.Errorf("detailsRefType(%q) = %q, want %q", ref, got, want)
		}
	}
}

// detailsPNG returns a small PNG image.
func detailsPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range 16 {
		img.Set(i%4, i/4, color.RGBA{R: 200, G: 30, B: 30, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDetailsAttachments shows a DocumentReference's or Binary's content:
// text and images on screen, anything else through Save as…, and content
// on the server fetched from it.
func TestDetailsAttachments(t *testing.T) {
	pngData := detailsPNG(t)
	pdf := []byte("%PDF-1.4\n% not really a PDF\n")
	const summary = "Discharge summary\nAll well; review in six weeks.\n"
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name     string
		resource string
		golden   string
		want     string // in the attachment tab's labels
		image    bool
		saved    []byte // what Save as… writes; nil when there is nothing to save
	}{
		{name: "document text", golden: "details_attachment.xml",
			resource: fmt.Sprintf(`{"resourceType":"DocumentReference","id":"d1","status":"current","type":{"text":"Discharge summary"},"indexed":"2024-01-02T10:00:00Z",`+
				`"content":[{"attachment":{"contentType":"text/plain","title":"Summary","data":%q}}]}`, b64([]byte(summary))),
			want: summary, saved: []byte(summary)},
		{name: "binary image", resource: fmt.Sprintf(`{"resourceType":"Binary","id":"b1","contentType":"image/png","content":%q}`, b64(pngData)),
			want: "image/png, 69 bytes", image: true, saved: pngData},
		{name: "binary pdf", resource: fmt.Sprintf(`{"resourceType":"Binary","id":"b2","contentType":"application/pdf","content":%q}`, b64(pdf)),
			want: "This content cannot be shown here; save it to open it with another program.", saved: pdf},
		{name: "document and its Binary in one Bundle", resource: `{"resourceType":"Bundle","type":"document","entry":[` +
			`{"fullUrl":"urn:uuid:d3","resource":{"resourceType":"DocumentReference","id":"d3","status":"current",` +
			`"content":[{"attachment":{"contentType":"text/plain","url":"urn:uuid:b3"}}]}},` +
			`{"fullUrl":"urn:uuid:b3","resource":{"resourceType":"Binary","id":"b3","contentType":"text/plain","content":"` +
			b64([]byte("Referral letter")) + `"}}]}`,
			want: "Referral letter", saved: []byte("Referral letter")},
		{name: "document on a server", resource: `{"resourceType":"DocumentReference","id":"d2","status":"current",` +
			`"content":[{"attachment":{"contentType":"text/plain","url":"http://elsewhere.test/Binary/9"}}]}`,
			want: "The content cannot be shown: the content is at http://elsewhere.test/Binary/9; browse the server it came from to fetch it."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "binary image" {
				tt.want = fmt.Sprintf("image/png, %d bytes", len(pngData))
			}
			h := newBrowserHarness(t, nil)
			path := filepath.Join(t.TempDir(), "resource.json")
			if err := os.WriteFile(path, []byte(tt.resource), 0o600); err != nil {
				t.Fatal(err)
			}
			h.b.openFile(path)
			h.waitShown()
			h.b.table.Select(widget.TableCellID{Row: 0, Col: 1})
			h.waitDetails()
			p := h.b.details
			if len(p.tabs.Items) != 4 {
				t.Fatalf("%d tabs, want an Attachment tab", len(p.tabs.Items))
			}
			p.tabs.Select(p.attachmentTab)
			var texts []string
			hasImage := false
			for _, o := range p.attachment.Objects {
				switch x := o.(type) {
				case *widget.Label:
					texts = append(texts, x.Text)
				case fyne.CanvasObject:
					if _, ok := o.(*canvas.Image); ok {
						hasImage = true
					}
				}
			}
			if !slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, tt.want) }) {
				t.Errorf("attachment shows %q, want %q", texts, tt.want)
			}
			if hasImage != tt.image {
				t.Errorf("image shown: %v, want %v", hasImage, tt.image)
			}
			if tt.golden != "" {
				browserGolden(t, h, tt.golden)
			}
			if p.saveAttachment.Disabled() != (tt.saved == nil) {
				t.Errorf("Save as… enabled: %v", !p.saveAttachment.Disabled())
			}
			if tt.saved == nil {
				return
			}
			out := filepath.Join(t.TempDir(), "saved")
			h.b.saveAttachmentTo(out)
			if err := browserWait(h, h.exported, "the attachment being saved"); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(out); !bytes.Equal(got, tt.saved) {
				t.Errorf("saved %q, want %q", got, tt.saved)
			}
		})
	}
}

// TestDetailsAttachmentFromServer fetches a DocumentReference's content
// from the server it came from.
func TestDetailsAttachmentFromServer(t *testing.T) {
	h := newBrowserHarness(t, nil)
	s := browserPatientStub()
	doc := `{"resourceType":"DocumentReference","id":"d1","status":"current",` +
		`"content":[{"attachment":{"contentType":"text/plain","url":"` + browserStubBase + `/Binary/b1"}}]}`
	s.json("/STU3/DocumentReference", http.StatusOK, browserSearchset(1, nil, doc))
	s.json("/STU3/Binary/b1", http.StatusOK, `{"resourceType":"Binary","id":"b1","contentType":"text/plain","content":"`+
		base64.StdEncoding.EncodeToString([]byte("Letter from the clinic"))+`"}`)
	c, caps := s.client(t)
	h.b.setSource(c, caps)
	h.b.openType("DocumentReference")
	h.waitShown()
	h.b.table.Select(widget.TableCellID{Row: 0, Col: 1})
	h.waitDetails()
	var texts []string
	for _, o := range h.b.details.attachment.Objects {
		if l, ok := o.(*widget.Label); ok {
			texts = append(texts, l.Text)
		}
	}
	if !slices.Contains(texts, "Letter from the clinic") {
		t.Errorf("attachment shows %q", texts)
	}
}

// TestDetailsPatientQuickSearches offers a Patient's records by type, only
// those the server can search.
func TestDetailsPatientQuickSearches(t *testing.T) {
	h := newBrowserHarness(t, nil)
	s := browserPatientStub()
	s.json("/STU3/Observation", http.StatusOK, browserSearchset(1, nil,
		`{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/1"}}`))
	c, caps := s.client(t)
	h.b.setSource(c, caps)
	h.b.openType("Patient")
	h.waitShown()
	h.b.table.Select(widget.TableCellID{Row: 0, Col: 1})
	h.waitDetails()
	p := h.b.details
	var offered []string
	for rt := range p.quick {
		offered = append(offered, rt)
	}
	slices.Sort(offered)
	if want := []string{"DocumentReference", "Observation"}; !slices.Equal(offered, want) {
		t.Errorf("quick searches for %v, want %v (what the stub can search)", offered, want)
	}
	p.tabs.Select(p.linksTab)
	browserGolden(t, h, "details_patient_links.xml")
	test.Tap(p.quick["Observation"])
	h.waitShown()
	if got, want := h.b.queryURL.Text, browserStubBase+"/Observation?_count=50&patient=Patient/1"; got != want {
		t.Errorf("query = %q, want %q", got, want)
	}
	if got := h.b.form.field("patient").entry.Text; got != "Patient/1" {
		t.Errorf("the form's patient = %q", got)
	}
}

// TestDetailsReadFailure follows a reference the server will not give.
func TestDetailsReadFailure(t *testing.T) {
	h := newBrowserHarness(t, nil)
	s := browserPatientStub()
	s.json("/STU3/Organization/B82001", http.StatusForbidden, browserOutcome("error", "security", "No scope for Organization"))
	c, caps := s.client(t)
	h.b.setSource(c, caps)
	h.b.openType("Patient")
	h.waitShown()
	h.answer()
	h.b.table.Select(widget.TableCellID{Row: 0, Col: 1})
	h.waitDetails()
	p := h.b.details
	test.Tap(p.refButtons[0])
	h.waitDetails()
	if a := h.answer(); a.resourceType != "Organization" || a.status != http.StatusForbidden {
		t.Errorf("answer = %+v", a)
	}
	if got := p.message.Text; !strings.HasPrefix(got, "Reading Organization/B82001 failed: the token does not allow this") {
		t.Errorf("message = %q", got)
	}
	if got := p.serverText.Text; got != "The server said: No scope for Organization" {
		t.Errorf("server text = %q", got)
	}
	if p.back.Disabled() {
		t.Error("Back is disabled after following a reference")
	}
}
