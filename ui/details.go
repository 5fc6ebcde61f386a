package ui

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // attachments shown as images
	_ "image/jpeg" // attachments shown as images
	_ "image/png"  // attachments shown as images
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/fhirclient"
)

// detailsMaxShown bounds how much pretty JSON or attachment text the
// details show; copying gives all of it.
const detailsMaxShown = 200 << 10

// detailsMaxWarnings bounds how many warnings the details list.
const detailsMaxWarnings = 12

// detailsQuick are the quick searches a Patient offers: this patient's
// records of each type.
var detailsQuick = []struct{ resourceType, label string }{
	{"Observation", "Observations"},
	{"Condition", "Conditions"},
	{"MedicationRequest", "Medication requests"},
	{"MedicationStatement", "Medication statements"},
	{"AllergyIntolerance", "Allergies"},
	{"Encounter", "Encounters"},
	{"Procedure", "Procedures"},
	{"Immunization", "Immunizations"},
	{"DocumentReference", "Documents"},
}

// detailsNode is one node of the resource's tree.
type detailsNode struct {
	label  string
	value  string // what copying the node gives: the value, or its JSON
	branch bool
	kids   []string
}

// detailsRef is a reference found in a resource.
type detailsRef struct {
	path    string // where it is, e.g. subject or performer[0]
	ref     string
	display string
}

// detailsView is everything the details show, computed on a worker.
type detailsView struct {
	entry    *fhirclient.Entry
	title    string
	pretty   string
	nodes    map[string]*detailsNode
	refs     []detailsRef
	warnings []fhirclient.Warning
	err      error // the JSON could not be read

	attachment  *fhirclient.Attachment    // the attachment shown, if any
	content     *fhirclient.BinaryContent // its content, when at hand
	contentErr  error                     // why the content is not at hand
	img         image.Image               // the content decoded, when it is an image
	fetch       bool                      // the content is to be fetched from the server
	attachments int                       // how many attachments the resource has
}

// detailsPane shows the selected resource.
type detailsPane struct {
	b *browser

	view     *detailsView
	history  []*fhirclient.Entry
	selected string // the tree node selected

	title          *widget.Label
	back           *widget.Button
	copyRef        *widget.Button
	copyJSON       *widget.Button
	message        *widget.Label
	serverText     *widget.Label
	warnings       *widget.Label
	tabs           *container.AppTabs
	treeTab        *container.TabItem
	jsonTab        *container.TabItem
	linksTab       *container.TabItem
	attachmentTab  *container.TabItem
	tree           *widget.Tree
	copyNode       *widget.Button
	json           *widget.Label
	links          *fyne.Container
	refButtons     []*widget.Button
	quick          map[string]*widget.Button
	attachment     *fyne.Container
	saveAttachment *widget.Button
	body           *fyne.Container // joins content the first time it is shown
	placeholder    fyne.CanvasObject
	content        *fyne.Container
}

// newDetailsPane builds the details pane of b.
func newDetailsPane(b *browser) *detailsPane {
	p := &detailsPane{b: b}
	p.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.title.Truncation = fyne.TextTruncateEllipsis
	p.back = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { b.locked(p.backLocked) })
	p.copyRef = widget.NewButtonWithIcon("Reference", theme.ContentCopyIcon(), func() {
		b.locked(func() {
			if p.view != nil && p.view.entry != nil {
				browserCopy(p.view.entry.Reference())
			}
		})
	})
	p.copyJSON = widget.NewButtonWithIcon("JSON", theme.ContentCopyIcon(), func() {
		b.locked(func() {
			if p.view != nil {
				browserCopy(p.view.pretty)
			}
		})
	})
	p.message = widget.NewLabel("")
	p.message.Wrapping = fyne.TextWrapWord
	p.serverText = widget.NewLabel("")
	p.serverText.Wrapping = fyne.TextWrapWord
	p.warnings = widget.NewLabel("")
	p.warnings.Wrapping = fyne.TextWrapWord
	p.warnings.Importance = widget.WarningImportance

	p.tree = widget.NewTree(p.treeChildren, p.treeBranch, p.treeCreate, p.treeUpdate)
	p.tree.OnSelected = func(id widget.TreeNodeID) {
		b.locked(func() {
			p.selected = id
			p.copyNode.Enable()
		})
	}
	p.copyNode = widget.NewButtonWithIcon("Copy selected value", theme.ContentCopyIcon(), func() {
		b.locked(func() {
			if n := p.node(p.selected); n != nil && p.selected != "" {
				browserCopy(n.value)
			}
		})
	})
	p.json = widget.NewLabel("")
	p.json.Selectable = true
	p.json.TextStyle.Monospace = true
	p.links = container.NewVBox()
	p.attachment = container.NewVBox()
	p.saveAttachment = widget.NewButtonWithIcon("Save as…", theme.DocumentSaveIcon(), p.onSaveAttachment)

	p.treeTab = container.NewTabItem("Tree", container.NewBorder(nil, container.NewHBox(p.copyNode), nil, nil, p.tree))
	p.jsonTab = container.NewTabItem("JSON", container.NewScroll(p.json))
	p.linksTab = container.NewTabItem("Links", container.NewVScroll(p.links))
	p.attachmentTab = container.NewTabItem("Attachment", container.NewScroll(p.attachment))
	p.tabs = container.NewAppTabs(p.treeTab, p.jsonTab, p.linksTab)

	head := container.NewBorder(nil, nil, p.back, container.NewHBox(p.copyRef, p.copyJSON), p.title)
	top := container.NewVBox(head, p.message, p.serverText, p.warnings)
	p.body = container.NewStack(container.NewBorder(top, nil, nil, nil, p.tabs))
	ph := widget.NewLabel("Select a row to see the resource: its tree, its JSON, its warnings and its links.")
	ph.Wrapping = fyne.TextWrapWord
	p.placeholder = ph
	// The body joins the pane when it is first shown (showBody): Fyne's
	// stack lays out hidden objects too, and laying out the tabs, tree and
	// buttons of a body nobody has asked for yet cost start-up time.
	p.content = container.NewStack(p.placeholder)
	return p
}

// showBody swaps the placeholder for the body, adding the body to the pane
// the first time.
func (p *detailsPane) showBody() {
	p.placeholder.Hide()
	if len(p.content.Objects) == 1 {
		p.content.Add(p.body)
	}
	p.body.Show()
}

// node returns the tree node with id.
func (p *detailsPane) node(id string) *detailsNode {
	if p.view == nil || p.view.nodes == nil {
		return nil
	}
	return p.view.nodes[id]
}

// treeChildren lists a tree node's children.
func (p *detailsPane) treeChildren(id widget.TreeNodeID) []widget.TreeNodeID {
	if n := p.node(id); n != nil {
		return n.kids
	}
	return nil
}

// treeBranch reports whether a tree node has children.
func (p *detailsPane) treeBranch(id widget.TreeNodeID) bool {
	n := p.node(id)
	return n != nil && n.branch
}

// treeCreate makes a tree row.
func (p *detailsPane) treeCreate(bool) fyne.CanvasObject {
	l := widget.NewLabel("")
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

// treeUpdate shows a tree node.
func (p *detailsPane) treeUpdate(id widget.TreeNodeID, _ bool, o fyne.CanvasObject) {
	text := ""
	if n := p.node(id); n != nil {
		text = n.label
	}
	o.(*widget.Label).SetText(text)
}

// clear shows the placeholder.
func (p *detailsPane) clear() {
	p.view, p.history, p.selected = nil, nil, ""
	p.body.Hide()
	p.placeholder.Show()
	if len(p.content.Objects) > 1 { // the tree has been drawn: forget its nodes
		p.tree.Refresh()
	}
}

// clearDetailsLocked cancels the details' work and empties them.
func (b *browser) clearDetailsLocked() {
	b.detailGen++
	if b.detailCancel != nil {
		b.detailCancel()
		b.detailCancel = nil
	}
	b.details.clear()
}

// startDetailsLocked cancels the details' work in flight and starts anew.
func (b *browser) startDetailsLocked() (uint64, context.Context) {
	b.detailGen++
	if b.detailCancel != nil {
		b.detailCancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.detailCancel = cancel
	return b.detailGen, ctx
}

// doDetails is doWhen for details work of generation gen.
func (b *browser) doDetails(gen uint64, fn func(), after func()) {
	b.doWhen(func() bool { return b.detailGen == gen }, fn, after)
}

// detailsShown calls the onDetails hook.
func (b *browser) detailsShown() {
	if b.onDetails != nil {
		b.onDetails()
	}
}

// rowSelectedLocked shows the details of a row.
func (b *browser) rowSelectedLocked(row int) {
	if row < 0 || row >= len(b.data.Entries) || b.data.Entries[row] == nil {
		return
	}
	b.details.history = nil
	b.showEntryLocked(b.data.Entries[row])
}

// showEntryLocked shows an entry's details, worked out on a worker.
func (b *browser) showEntryLocked(e *fhirclient.Entry) {
	gen, ctx := b.startDetailsLocked()
	p := b.details
	p.title.SetText(detailsTitle(e))
	p.setMessageLocked("Loading…", "", false)
	p.showBody()
	client := b.client
	if b.res.file != "" {
		client = nil // a file's attachments and references are not on the server
	}
	var local []fhirclient.Entry
	if bundle := b.res.bundle; bundle != nil {
		local = bundle.Entries[:len(bundle.Entries):len(bundle.Entries)]
	}
	go b.detailsWorker(ctx, gen, client, e, local)
}

// detailsWorker works out an entry's details, puts them on screen and then
// fetches its attachment, if it has one on the server.
func (b *browser) detailsWorker(ctx context.Context, gen uint64, client *fhirclient.Client, e *fhirclient.Entry, local []fhirclient.Entry) {
	parsed := e.Parsed()
	v := detailsBuild(e, client != nil, local)
	b.doDetails(gen, func() {
		b.details.setLocked(v)
		if !parsed && len(v.warnings) > 0 {
			b.refreshWarningsLocked() // the typed parse found problems: mark the row
		}
	}, func() {
		if !v.fetch {
			b.detailsShown()
		}
	})
	if !v.fetch {
		return
	}
	bc, err := client.AttachmentContent(ctx, *v.attachment)
	var img image.Image
	if err == nil && detailsIsImage(bc.ContentType) {
		img, _, _ = image.Decode(bytes.NewReader(bc.Data))
	}
	b.doDetails(gen, func() {
		v.fetch, v.content, v.contentErr, v.img = false, bc, err, img
		b.details.showAttachmentLocked()
	}, func() {
		var he *fhirclient.HTTPError
		if errors.As(err, &he) {
			b.answer(cmpOr(detailsRefType(v.attachment.URL), "Binary"), he.Status, err)
		}
		b.detailsShown()
	})
}

// detailsBuild works out what the details show: the tree, the pretty JSON,
// the references, the typed parser's warnings and the attachment. An
// attachment's url is looked for among the local entries (a document
// Bundle's Binary, say) before the server is asked, when live.
func detailsBuild(e *fhirclient.Entry, live bool, local []fhirclient.Entry) *detailsView {
	v := &detailsView{entry: e, title: detailsTitle(e)}
	raw := []byte(e.Resource)
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		v.err = err
		v.pretty = string(raw)
	} else {
		v.pretty = buf.String()
	}
	if v.err == nil {
		v.nodes, v.refs = detailsTree(raw)
	}
	if e.ResourceType != "" {
		_, _ = e.Parse() // the parser's complaints become the entry's warnings
	}
	v.warnings = e.Warnings()

	if e.ResourceType == "Binary" {
		bc, err := detailsBinary(e)
		v.attachment = &fhirclient.Attachment{ContentType: "", Title: e.Reference(), Size: -1}
		v.attachments = 1
		v.content, v.contentErr = bc, err
		if bc != nil {
			v.attachment.ContentType = bc.ContentType
			v.attachment.Size = int64(len(bc.Data))
		}
	} else if atts := fhirclient.Attachments(*e); len(atts) > 0 {
		a := atts[0]
		v.attachment, v.attachments = &a, len(atts)
		var bin *fhirclient.Entry
		if a.URL != "" {
			if bin = detailsFind(local, a.URL); bin != nil && bin.ResourceType != "Binary" {
				bin = nil
			}
		}
		switch {
		case a.HasData && a.DataError != "":
			v.contentErr = errors.New(a.DataError)
		case a.HasData:
			v.content = &fhirclient.BinaryContent{ContentType: a.ContentType, Data: a.Data, Source: "inline"}
		case bin != nil:
			v.content, v.contentErr = detailsBinary(bin)
		case a.URL != "" && live:
			v.fetch = true
		case a.URL != "":
			v.contentErr = fmt.Errorf("the content is at %s; browse the server it came from to fetch it", fhirclient.RedactURL(a.URL))
		default:
			v.contentErr = errors.New("the attachment has neither data nor a URL")
		}
	}
	if v.content != nil && detailsIsImage(v.content.ContentType) {
		v.img, _, _ = image.Decode(bytes.NewReader(v.content.Data))
	}
	return v
}

// detailsTitle names an entry.
func detailsTitle(e *fhirclient.Entry) string {
	if ref := e.Reference(); ref != "" {
		return ref
	}
	if e.ResourceType != "" {
		return e.ResourceType + " (no id)"
	}
	return "Entry without a resource"
}

// detailsBinary decodes a Binary resource's content (STU3 "content", R4
// "data").
func detailsBinary(e *fhirclient.Entry) (*fhirclient.BinaryContent, error) {
	var bin struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
		Data        string `json:"data"`
	}
	if err := json.Unmarshal(e.Resource, &bin); err != nil {
		return nil, fmt.Errorf("the Binary cannot be read: %w", err)
	}
	s := strings.Join(strings.Fields(bin.Content+bin.Data), "")
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if data, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil {
			return nil, fmt.Errorf("the Binary's content is not valid base64: %w", err)
		}
	}
	return &fhirclient.BinaryContent{ContentType: bin.ContentType, Data: data, Source: "inline"}, nil
}

// detailsTree turns a resource's JSON into tree nodes, keeping the order
// of its fields, and collects its references.
func detailsTree(raw []byte) (map[string]*detailsNode, []detailsRef) {
	nodes := map[string]*detailsNode{}
	var refs []detailsRef
	var walk func(id, label string, raw []byte)
	walk = func(id, label string, raw []byte) {
		raw = bytes.TrimSpace(raw)
		n := &detailsNode{label: label}
		nodes[id] = n
		if len(raw) == 0 {
			return
		}
		child := func(key string) string {
			if id == "" {
				return key
			}
			if strings.HasPrefix(key, "[") {
				return id + key
			}
			return id + "." + key
		}
		switch raw[0] {
		case '{':
			n.branch = true
			n.value = detailsIndent(raw)
			dec := json.NewDecoder(bytes.NewReader(raw))
			if _, err := dec.Token(); err != nil {
				return
			}
			var ref, display string
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return
				}
				key, _ := tok.(string)
				var v json.RawMessage
				if err := dec.Decode(&v); err != nil {
					return
				}
				cid := child(key)
				for nodes[cid] != nil { // a repeated key
					cid += "'"
				}
				n.kids = append(n.kids, cid)
				walk(cid, key, v)
				switch key {
				case "reference":
					_ = json.Unmarshal(v, &ref)
				case "display":
					_ = json.Unmarshal(v, &display)
				}
			}
			if ref != "" && id != "" {
				refs = append(refs, detailsRef{path: id, ref: ref, display: display})
				n.label = label + " → " + ref
			}
		case '[':
			n.branch = true
			n.value = detailsIndent(raw)
			dec := json.NewDecoder(bytes.NewReader(raw))
			if _, err := dec.Token(); err != nil {
				return
			}
			i := 0
			for dec.More() {
				var v json.RawMessage
				if err := dec.Decode(&v); err != nil {
					return
				}
				key := "[" + strconv.Itoa(i) + "]"
				cid := child(key)
				n.kids = append(n.kids, cid)
				walk(cid, label+key, v)
				i++
			}
			n.label = fmt.Sprintf("%s (%d)", label, i)
		default:
			var s any
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&s); err != nil {
				n.value = string(raw)
			} else if s == nil {
				n.value = "null"
			} else {
				n.value = fmt.Sprint(s)
			}
			n.label = label + ": " + detailsClip(n.value, 160)
		}
	}
	walk("", "", raw)
	return nodes, refs
}

// detailsWarningText says what a warning is about, without repeating
// itself ("error: error at …").
func detailsWarningText(w fhirclient.Warning) string {
	msg := w.Message
	if w.Location != "" && !strings.Contains(msg, w.Location) {
		msg = w.Location + ": " + msg
	}
	if w.Severity != "" && !strings.HasPrefix(strings.ToLower(msg), w.Severity) {
		msg = w.Severity + ": " + msg
	}
	switch w.Source {
	case fhirclient.SourceParser:
		msg += " (the FHIR parser)"
	case fhirclient.SourceServer:
		msg += " (the server)"
	case fhirclient.SourceDecoder:
		msg += " (reading the Bundle)"
	}
	return msg
}

// detailsCut cuts s to at most n bytes, at a character boundary.
func detailsCut(s string, n int) string {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// detailsIndent pretty-prints JSON.
func detailsIndent(raw []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}

// detailsClip shortens s to n runes on one line.
func detailsClip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// setMessageLocked shows a message above the details (an error when
// danger), with the server's words beside it.
func (p *detailsPane) setMessageLocked(msg, server string, danger bool) {
	p.message.Importance = widget.MediumImportance
	if danger {
		p.message.Importance = widget.DangerImportance
	}
	p.message.SetText(msg)
	setVisible(p.message, msg != "")
	p.serverText.SetText("The server said: " + server)
	setVisible(p.serverText, server != "")
}

// setVisible shows or hides o.
func setVisible(o fyne.CanvasObject, on bool) {
	if on {
		o.Show()
	} else {
		o.Hide()
	}
}

// setLocked shows a worked-out entry.
func (p *detailsPane) setLocked(v *detailsView) {
	p.view, p.selected = v, ""
	p.title.SetText(v.title)
	setEnabled(p.back, len(p.history) > 0)
	p.copyNode.Disable()
	if v.err != nil {
		p.setMessageLocked("The resource's JSON cannot be read: "+v.err.Error(), "", true)
	} else {
		p.setMessageLocked("", "", false)
	}

	if len(v.warnings) > 0 {
		lines := []string{fmt.Sprintf("Conformance warnings (%d):", len(v.warnings))}
		for i, w := range v.warnings {
			if i == detailsMaxWarnings {
				lines = append(lines, fmt.Sprintf("• and %d more", len(v.warnings)-i))
				break
			}
			lines = append(lines, "• "+detailsWarningText(w))
		}
		p.warnings.SetText(strings.Join(lines, "\n"))
		p.warnings.Show()
	} else {
		p.warnings.Hide()
	}

	p.tree.UnselectAll()
	p.tree.Refresh()
	if len(v.nodes) <= 2000 {
		p.tree.OpenAllBranches()
	} else {
		p.tree.CloseAllBranches()
	}
	p.tree.ScrollToTop()

	text := v.pretty
	if len(text) > detailsMaxShown {
		text = detailsCut(text, detailsMaxShown) + "\n… (cut short here; Copy JSON copies all of it)"
	}
	p.json.SetText(text)

	p.setLinksLocked(v)
	items := []*container.TabItem{p.treeTab, p.jsonTab, p.linksTab}
	if v.attachment != nil {
		items = append(items, p.attachmentTab)
	}
	if len(p.tabs.Items) != len(items) {
		sel := p.tabs.SelectedIndex()
		p.tabs.SetItems(items)
		if sel >= 0 && sel < len(items) {
			p.tabs.SelectIndex(sel)
		}
	}
	p.showAttachmentLocked()
	p.showBody()
}

// setLinksLocked lists the entry's references and, for a Patient, the
// quick searches of its records.
func (p *detailsPane) setLinksLocked(v *detailsView) {
	b := p.b
	p.refButtons = nil
	p.quick = map[string]*widget.Button{}
	objs := []fyne.CanvasObject{widget.NewLabelWithStyle("References", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}
	if len(v.refs) == 0 && v.entry != nil {
		objs = append(objs, widget.NewLabel("This resource refers to no other resource."))
	}
	for _, r := range v.refs {
		text := r.path + " → " + r.ref
		if r.display != "" {
			text += " (" + r.display + ")"
		}
		ref := r.ref
		btn := widget.NewButtonWithIcon(text, theme.NavigateNextIcon(), func() { b.locked(func() { b.followLocked(ref) }) })
		btn.Alignment = widget.ButtonAlignLeading
		btn.Importance = widget.LowImportance
		p.refButtons = append(p.refButtons, btn)
		objs = append(objs, btn)
	}
	if e := v.entry; e != nil && e.ResourceType == "Patient" && e.ID != "" && b.client != nil && b.res.file == "" {
		objs = append(objs, widget.NewLabelWithStyle("This patient's records", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		grid := container.NewGridWithColumns(3)
		patient := "Patient/" + e.ID
		for _, q := range detailsQuick {
			if b.caps != nil {
				rc, ok := b.caps.Resource(q.resourceType)
				if !ok || (len(rc.Interactions) > 0 && !rc.Supports("search-type")) {
					continue
				}
			}
			rt := q.resourceType
			btn := widget.NewButton(q.label, func() {
				b.locked(func() {
					b.openTypeLocked(rt, url.Values{"patient": {patient}, "_count": {searchDefaultCount}})
				})
			})
			p.quick[rt] = btn
			grid.Add(btn)
		}
		objs = append(objs, grid)
	}
	p.links.Objects = objs
	p.links.Refresh()
}

// showAttachmentLocked shows the attachment: text or an image when it is
// one, otherwise what it is and "Save as…".
func (p *detailsPane) showAttachmentLocked() {
	v := p.view
	if v == nil || v.attachment == nil {
		p.attachment.Objects = nil
		p.attachment.Refresh()
		return
	}
	a := v.attachment
	var objs []fyne.CanvasObject
	desc := detailsDescribe(a, v.content)
	if v.attachments > 1 {
		desc += fmt.Sprintf(" (the first of %d attachments)", v.attachments)
	}
	objs = append(objs, widget.NewLabel(desc))
	setEnabled(p.saveAttachment, v.content != nil)
	switch {
	case v.fetch:
		objs = append(objs, widget.NewLabel("Fetching the content from the server…"))
	case v.contentErr != nil:
		msg, server := browserErrorText("The content cannot be shown", v.contentErr)
		l := widget.NewLabel(msg)
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.DangerImportance
		objs = append(objs, l)
		if server != "" {
			s := widget.NewLabel("The server said: " + server)
			s.Wrapping = fyne.TextWrapWord
			objs = append(objs, s)
		}
	case v.img != nil:
		img := canvas.NewImageFromImage(v.img)
		img.FillMode = canvas.ImageFillContain
		img.SetMinSize(fyne.NewSize(240, 240))
		objs = append(objs, container.NewHBox(p.saveAttachment), img)
	case detailsIsText(v.content.ContentType, v.content.Data):
		text := string(v.content.Data)
		if len(text) > detailsMaxShown {
			text = detailsCut(text, detailsMaxShown) + "\n… (cut short here; Save as… saves all of it)"
		}
		l := widget.NewLabel(text)
		l.Selectable = true
		l.Wrapping = fyne.TextWrapWord
		objs = append(objs, container.NewHBox(p.saveAttachment), l)
	default:
		objs = append(objs, widget.NewLabel("This content cannot be shown here; save it to open it with another program."), container.NewHBox(p.saveAttachment))
	}
	p.attachment.Objects = objs
	p.attachment.Refresh()
}

// detailsDescribe says what an attachment is.
func detailsDescribe(a *fhirclient.Attachment, c *fhirclient.BinaryContent) string {
	ct := a.ContentType
	if c != nil && c.ContentType != "" {
		ct = c.ContentType
	}
	if ct == "" {
		ct = "content of unknown type"
	}
	parts := []string{ct}
	switch {
	case c != nil:
		parts = append(parts, detailsSize(len(c.Data)))
	case a.Size >= 0:
		parts = append(parts, detailsSize(int(a.Size)))
	}
	if a.Title != "" {
		parts = append([]string{a.Title}, parts...)
	}
	return strings.Join(parts, ", ")
}

// detailsSize formats a size in bytes.
func detailsSize(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// detailsIsImage reports whether content can be shown as an image.
func detailsIsImage(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	switch mt {
	case "image/png", "image/jpeg", "image/gif":
		return true
	}
	return false
}

// detailsIsText reports whether content can be shown as text.
func detailsIsText(ct string, data []byte) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case strings.HasPrefix(mt, "text/"), mt == "application/json", mt == "application/xml",
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return utf8.Valid(data)
	case mt == "":
		return utf8.Valid(data) && !bytes.ContainsRune(data, 0)
	}
	return false
}

// followLocked shows the resource a reference points at: from the result
// when it is there, else read from the server.
func (b *browser) followLocked(ref string) {
	p := b.details
	if p.view != nil && p.view.entry != nil {
		p.history = append(p.history, p.view.entry)
	}
	if e := b.localEntryLocked(ref); e != nil {
		b.showEntryLocked(e)
		return
	}
	gen, ctx := b.startDetailsLocked()
	p.title.SetText(ref)
	client := b.client
	if client == nil || b.res.file != "" {
		p.setLocked(&detailsView{title: ref})
		p.setMessageLocked(ref+" is not in "+cmpOr(b.res.file, "the result")+", and there is no server to read it from.", "", true)
		go b.doDetails(gen, func() {}, b.detailsShown)
		return
	}
	p.setMessageLocked("Reading "+ref+"…", "", false)
	setEnabled(p.back, len(p.history) > 0)
	rt := detailsRefType(ref)
	go func() {
		e, err := client.ReadReference(ctx, ref)
		if err != nil {
			var he *fhirclient.HTTPError
			b.doDetails(gen, func() {
				msg, server := browserErrorText("Reading "+ref+" failed", err)
				p.setLocked(&detailsView{title: ref})
				p.setMessageLocked(msg, server, true)
			}, func() {
				if errors.As(err, &he) {
					b.answer(rt, he.Status, err)
				}
				b.detailsShown()
			})
			return
		}
		if e.ResourceType != "" {
			rt = e.ResourceType
		}
		b.doDetails(gen, func() {}, func() { b.answer(rt, http.StatusOK, nil) })
		b.detailsWorker(ctx, gen, client, e, nil)
	}()
}

// cmpOr returns a, or b when a is empty.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// localEntryLocked finds the entry a reference points at in the result.
func (b *browser) localEntryLocked(ref string) *fhirclient.Entry {
	if b.res.bundle == nil {
		return nil
	}
	return detailsFind(b.res.bundle.Entries, ref)
}

// detailsFind finds the entry a reference points at among entries: by
// full URL, or by Type/id (relative, or at the end of an absolute URL).
func detailsFind(entries []fhirclient.Entry, ref string) *fhirclient.Entry {
	for i := range entries {
		e := &entries[i]
		if e.FullURL != "" && e.FullURL == ref {
			return e
		}
		if r := e.Reference(); e.ID != "" && (r == ref || strings.HasSuffix(ref, "/"+r)) {
			return e
		}
	}
	return nil
}

// detailsRefType returns the resource type a reference names.
func detailsRefType(ref string) string {
	parts := strings.Split(strings.Split(ref, "?")[0], "/")
	for i := len(parts) - 2; i >= 0; i-- {
		if s := parts[i]; s != "" && s[0] >= 'A' && s[0] <= 'Z' && s != "_history" {
			return s
		}
	}
	return ""
}

// backLocked returns to the resource shown before following a reference.
func (p *detailsPane) backLocked() {
	if len(p.history) == 0 {
		return
	}
	e := p.history[len(p.history)-1]
	p.history = p.history[:len(p.history)-1]
	p.b.showEntryLocked(e)
}

// onSaveAttachment asks where to save the attachment.
func (p *detailsPane) onSaveAttachment() {
	var name string
	p.b.locked(func() {
		if v := p.view; v != nil && v.content != nil {
			name = detailsFileName(v)
		}
	})
	if name == "" {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		p.b.locked(func() { p.b.saveAttachmentLocked(w, w.URI().Name()) })
	}, p.b.win)
	d.SetFileName(name)
	d.Show()
}

// detailsFileName suggests a file name for an attachment.
func detailsFileName(v *detailsView) string {
	name := "attachment"
	if v.entry != nil && v.entry.ID != "" {
		name = v.entry.ResourceType + "-" + v.entry.ID
	}
	if exts, _ := mime.ExtensionsByType(v.content.ContentType); len(exts) > 0 {
		return name + exts[len(exts)-1]
	}
	return name + ".bin"
}
