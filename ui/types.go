package ui

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/careconnectexplorer/ccexplorer/auth"
)

// careConnectTypes are the resource types with Care Connect STU3 profiles,
// in the order the sidebar lists them.
var careConnectTypes = []string{
	"Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "HealthcareService",
	"Encounter", "EpisodeOfCare", "Condition", "Procedure", "Observation", "AllergyIntolerance",
	"MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration", "Medication",
	"Immunization", "DiagnosticReport", "Specimen", "ReferralRequest", "CarePlan", "QuestionnaireResponse",
	"Flag", "FamilyMemberHistory", "DocumentReference", "Binary", "Composition",
}

// careConnectTypesIn returns the Care Connect types among those a server
// lists, in the sidebar's order.
func careConnectTypesIn(listed []string) []string {
	var out []string
	for _, t := range careConnectTypes {
		if slices.Contains(listed, t) {
			out = append(out, t)
		}
	}
	return out
}

// typesList is the sidebar's list of resource types: readable ones in the
// normal colour, the others greyed out with the reason under the name.
type typesList struct {
	items []auth.Access // Fyne goroutine only
	list  *widget.List
	// onChoose is called when the user picks a type.
	onChoose func(a auth.Access)
}

func newTypesList() *typesList {
	tl := &typesList{}
	tl.list = widget.NewList(tl.length, tl.create, tl.update)
	tl.list.OnSelected = func(id widget.ListItemID) {
		if id >= 0 && id < len(tl.items) && tl.onChoose != nil {
			tl.onChoose(tl.items[id])
		}
	}
	return tl
}

func (tl *typesList) length() int { return len(tl.items) }

func (tl *typesList) create() fyne.CanvasObject {
	icon := widget.NewIcon(theme.ConfirmIcon())
	name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	reason := widget.NewLabel("")
	reason.Truncation = fyne.TextTruncateEllipsis
	reason.SizeName = theme.SizeNameCaptionText
	return container.NewBorder(nil, nil, icon, nil, container.NewVBox(name, reason))
}

func (tl *typesList) update(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(tl.items) {
		return
	}
	a := tl.items[id]
	row := o.(*fyne.Container)
	texts := row.Objects[0].(*fyne.Container)
	icon := row.Objects[1].(*widget.Icon)
	name, reason := texts.Objects[0].(*widget.Label), texts.Objects[1].(*widget.Label)
	name.SetText(a.Type)
	reason.SetText(accessLine(a))
	switch {
	case a.Finding == auth.DeniedByServer:
		name.Importance, reason.Importance = widget.LowImportance, widget.DangerImportance
		icon.SetResource(theme.ErrorIcon())
	case a.Readability == auth.NotReadable:
		name.Importance, reason.Importance = widget.LowImportance, widget.LowImportance
		icon.SetResource(theme.NewDisabledResource(theme.CancelIcon()))
	case a.Readability == auth.PartlyReadable:
		name.Importance, reason.Importance = widget.MediumImportance, widget.WarningImportance
		icon.SetResource(theme.WarningIcon())
	case a.Finding == auth.AllowedByServer:
		name.Importance, reason.Importance = widget.MediumImportance, widget.WarningImportance
		icon.SetResource(theme.WarningIcon())
	default:
		name.Importance, reason.Importance = widget.MediumImportance, widget.LowImportance
		icon.SetResource(theme.ConfirmIcon())
	}
	name.Refresh()
	reason.Refresh()
}

// accessLine is the short reason shown under a type's name (the whole
// reason is shown when the type is chosen).
func accessLine(a auth.Access) string {
	r := a.Reason
	if a.Finding == auth.DeniedByServer {
		return "denied by server" + serverSaid(a)
	}
	if i := strings.Index(r, " ("); i > 0 {
		r = r[:i]
	}
	return r
}

func serverSaid(a auth.Access) string {
	if a.ServerMessage == "" {
		return ""
	}
	return ": " + a.ServerMessage
}

// set shows a new list of types.
func (tl *typesList) set(items []auth.Access) {
	tl.items = items
	tl.list.UnselectAll()
	tl.list.Refresh()
}

// updateOne replaces the access of one type (after the server answered).
func (tl *typesList) updateOne(a auth.Access) {
	for i := range tl.items {
		if tl.items[i].Type == a.Type {
			tl.items[i] = a
			tl.list.RefreshItem(i)
			return
		}
	}
}

// get returns the access shown for a type.
func (tl *typesList) get(typ string) (auth.Access, bool) {
	for _, a := range tl.items {
		if a.Type == typ {
			return a, true
		}
	}
	return auth.Access{}, false
}

// explanation is what the centre shows for a type the token cannot read.
func explanation(a auth.Access, policyWhy string) string {
	var b strings.Builder
	b.WriteString(a.Type + " is greyed out: this token cannot read it.\n\n")
	b.WriteString(strings.ToUpper(a.Reason[:1]) + a.Reason[1:] + ".\n\n")
	if a.ServerMessage != "" {
		b.WriteString("The server said: " + a.ServerMessage + "\n\n")
	}
	b.WriteString("Access policy: " + string(a.Policy))
	if policyWhy != "" {
		b.WriteString(" (" + policyWhy + ")")
	}
	b.WriteString(".\nLog in with a client or user that has the scope named above to read " + a.Type + ".")
	return b.String()
}

// accessMatrix builds the types × granted scopes table: which scope lets
// the token read which type.
func accessMatrix(policy auth.Policy, granted, types []string) (header []string, rows [][]string) {
	header = append([]string{"Type"}, granted...)
	header = append(header, "Result")
	perScope := make([][]auth.Access, len(granted))
	for i, s := range granted {
		perScope[i] = auth.CheckAccess(policy, []string{s}, types)
	}
	all := auth.CheckAccess(policy, granted, types)
	for ti, t := range types {
		row := []string{t}
		for si := range granted {
			switch perScope[si][ti].Readability {
			case auth.Readable:
				row = append(row, "✓ read")
			case auth.PartlyReadable:
				row = append(row, "◐ partly")
			default:
				row = append(row, "·")
			}
		}
		row = append(row, all[ti].Readability.String())
		rows = append(rows, row)
	}
	return header, rows
}

// showAccessMatrix opens the access matrix for the current session.
func showAccessMatrix(win fyne.Window, policy auth.Policy, granted, types []string) {
	header, rows := accessMatrix(policy, granted, types)
	t := widget.NewTableWithHeaders(
		func() (int, int) { return len(rows), len(header) },
		func() fyne.CanvasObject { return widget.NewLabel("MedicationStatement") },
		func(id widget.TableCellID, o fyne.CanvasObject) { o.(*widget.Label).SetText(rows[id.Row][id.Col]) },
	)
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(header) {
			o.(*widget.Label).SetText(header[id.Col])
		}
	}
	for i := range header {
		t.SetColumnWidth(i, 170)
	}
	note := widget.NewLabel("Policy: " + string(policy) + ". Each column is one granted scope on its own; Result is all of them together.")
	note.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom("Access matrix", "Close", container.NewBorder(note, nil, nil, nil, t), win)
	d.Resize(fyne.NewSize(900, 600))
	d.Show()
}
