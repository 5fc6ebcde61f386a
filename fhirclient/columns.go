package fhirclient

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ColumnKind says how a column's cells are formatted and sorted.
type ColumnKind int

// The column kinds.
const (
	KindText      ColumnKind = iota // sorted as text, ignoring case
	KindDate                        // FHIR dates shown as dates; sorted chronologically
	KindNumber                      // sorted by the leading number
	KindSize                        // base64 data shown as its size in bytes
	KindNarrative                   // XHTML narrative shown as one line of text
)

// Column is one Care Connect column: a title and a path to its values,
// evaluated on the resource's JSON. One description serves STU3 and R4:
// paths use the field names both releases share, "|" alternatives cover
// renamed fields (assertedDate in STU3, recordedDate in R4), and values are
// rendered by their shape, not their declared type (a code and a
// CodeableConcept both render as the code's text).
//
// The path syntax:
//
//	a.b.c       members, stepping through arrays (a single object where an
//	            array belongs counts as a one-element array)
//	value[x]    a choice element: valueQuantity, valueCodeableConcept, ...
//	a[k=v|w]    the items of a whose member k is v or w
//	a[k~v]      ... whose member k is a system or URL named v: its last
//	            segment without a "-1" version or an "Extension-",
//	            "CareConnect-" or "UKCore-" prefix is v, ignoring case
//	            (identifier[system~nhs-number] matches
//	            https://fhir.nhs.uk/Id/nhs-number and http://fhir.nhs.net/Id/nhs-number/)
//	a[k^v]      ... whose member k contains v
//	p|q         the first of p and q that finds anything
type Column struct {
	Title string
	Path  string            // for example identifier[system~nhs-number].value
	Kind  ColumnKind        // how cells format and sort
	First bool              // show only the first value found, not all
	Map   map[string]string // display text for codes and booleans ("true", "y", ...)

	expr *pathExpr
}

// NHSNumberSystem is the identifier system of NHS numbers.
const NHSNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"

// The identifier systems shown for organisations, practitioners and
// locations: ODS and SDS codes in their several spellings, then GMC/GMP
// numbers.
const orgIdentifier = "identifier[system~ods-organization-code|ods-organisation-code|ods-site-code|sds-user-id|sds-role-profile-id|gmc-number|gmp-number|gdp-number|nmc-number]|identifier"

var (
	// taken shows STU3's MedicationStatement.taken, or in R4 (which has
	// no taken) what the status implies.
	taken = map[string]string{
		"y": "yes", "n": "no", "unk": "unknown", "na": "not applicable",
		"active": "yes", "completed": "yes", "stopped": "yes", "on-hold": "yes",
		"not-taken": "no", "intended": "not yet", "unknown": "unknown", "entered-in-error": "",
	}
	// notGiven shows STU3's Immunization.notGiven, or in R4 (which has no
	// notGiven) whether the status is not-done.
	notGiven = map[string]string{
		"true": "yes", "false": "no", "not-done": "yes", "completed": "no", "entered-in-error": "",
	}
)

// presets are the Care Connect column descriptions, one per resource type,
// for STU3 and R4 alike.
var presets = map[string][]Column{
	"Patient": {
		{Title: "NHS number", Path: "identifier[system~nhs-number].value", First: true},
		{Title: "Name", Path: "name[use=official]|name[use=usual]|name", First: true},
		{Title: "Gender", Path: "gender"},
		{Title: "Birth date", Path: "birthDate", Kind: KindDate},
		{Title: "Postcode", Path: "address[use=home].postalCode|address.postalCode", First: true},
		{Title: "GP practice", Path: "generalPractitioner[reference^Organization/]|generalPractitioner[type=Organization]|generalPractitioner", First: true},
		{Title: "Ethnic category", Path: "extension[url~EthnicCategory].value[x]|extension[url~EthnicCategory].extension[url=ethnicCategory].value[x]"},
		{Title: "NHS number status", Path: "identifier[system~nhs-number].extension[url~NHSNumberVerificationStatus].value[x]", First: true},
	},
	"Observation": {
		{Title: "Date", Path: "effective[x]|issued", Kind: KindDate},
		{Title: "Code", Path: "code"},
		{Title: "Value", Path: "value[x]|component|dataAbsentReason", Kind: KindNumber},
		{Title: "Category", Path: "category"},
		{Title: "Status", Path: "status"},
	},
	"Encounter": {
		{Title: "Start", Path: "period.start", Kind: KindDate},
		{Title: "End", Path: "period.end", Kind: KindDate},
		{Title: "Status", Path: "status"},
		{Title: "Class", Path: "class"},
		{Title: "Type", Path: "type"},
		{Title: "Service provider", Path: "serviceProvider"},
	},
	"Condition": {
		{Title: "Code", Path: "code"},
		{Title: "Clinical status", Path: "clinicalStatus"},
		{Title: "Verification status", Path: "verificationStatus"},
		{Title: "Category", Path: "category"},
		{Title: "Onset/asserted", Path: "onset[x]|assertedDate|recordedDate", Kind: KindDate, First: true},
	},
	"Procedure": {
		{Title: "Performed", Path: "performed[x]", Kind: KindDate},
		{Title: "Code", Path: "code"},
		{Title: "Status", Path: "status"},
		{Title: "Outcome", Path: "outcome"},
	},
	"AllergyIntolerance": {
		{Title: "Code", Path: "code"},
		{Title: "Clinical status", Path: "clinicalStatus"},
		{Title: "Verification status", Path: "verificationStatus"},
		{Title: "Criticality", Path: "criticality"},
		{Title: "Asserted", Path: "assertedDate|recordedDate", Kind: KindDate},
		{Title: "Reaction", Path: "reaction.manifestation"},
	},
	"MedicationRequest": {
		{Title: "Authored on", Path: "authoredOn", Kind: KindDate},
		{Title: "Medication", Path: "medication[x]"},
		{Title: "Dosage", Path: "dosageInstruction.text|dosageInstruction.dose[x]|dosageInstruction.doseAndRate.dose[x]"},
		{Title: "Status", Path: "status"},
		{Title: "Intent", Path: "intent"},
	},
	"MedicationStatement": {
		{Title: "Effective", Path: "effective[x]|dateAsserted", Kind: KindDate},
		{Title: "Medication", Path: "medication[x]"},
		{Title: "Dosage", Path: "dosage.text|dosage.dose[x]|dosage.doseAndRate.dose[x]"},
		{Title: "Status", Path: "status"},
		{Title: "Taken", Path: "taken|status", Map: taken},
	},
	"Immunization": {
		{Title: "Date", Path: "date|occurrence[x]|extension[url~DateRecorded].value[x]", Kind: KindDate},
		{Title: "Vaccine", Path: "vaccineCode"},
		{Title: "Status", Path: "status"},
		{Title: "Not given", Path: "notGiven|status", Map: notGiven},
	},
	"DocumentReference": {
		{Title: "Created", Path: "created|content.attachment.creation|indexed|date", Kind: KindDate, First: true},
		{Title: "Type", Path: "type"},
		{Title: "Status", Path: "status"},
		{Title: "Author", Path: "author"},
		{Title: "Attachment", Path: "content.attachment"},
		{Title: "Content type", Path: "content.attachment.contentType"},
	},
	"Binary": {
		{Title: "ID", Path: "id"},
		{Title: "Content type", Path: "contentType"},
		{Title: "Size", Path: "data|content", Kind: KindSize},
	},
	"Organization": {
		{Title: "Identifier", Path: orgIdentifier, First: true},
		{Title: "Name", Path: "name"},
		{Title: "Address", Path: "address", First: true},
	},
	"Practitioner": {
		{Title: "Identifier", Path: orgIdentifier, First: true},
		{Title: "Name", Path: "name[use=official]|name[use=usual]|name", First: true},
		{Title: "Address", Path: "address", First: true},
	},
	"Location": {
		{Title: "Identifier", Path: orgIdentifier, First: true},
		{Title: "Name", Path: "name"},
		{Title: "Address", Path: "address", First: true},
	},
}

// genericColumns are the columns of any other resource type.
var genericColumns = []Column{
	{Title: "ID", Path: "id"},
	{Title: "Last updated", Path: "meta.lastUpdated", Kind: KindDate},
	{Title: "Summary", Path: "text", Kind: KindNarrative},
}

func init() {
	compile := func(cols []Column) {
		for i := range cols {
			e, err := compilePath(cols[i].Path)
			if err != nil {
				panic(err)
			}
			cols[i].expr = e
		}
	}
	for _, cols := range presets {
		compile(cols)
	}
	compile(genericColumns)
}

// ColumnsFor returns the Care Connect columns for a resource type; types
// without a preset get ID, last updated and a narrative summary.
func ColumnsFor(resourceType string) []Column {
	cols, ok := presets[resourceType]
	if !ok {
		cols = genericColumns
	}
	return slices.Clone(cols)
}

// NewColumn describes a column of your own with the path syntax the
// presets use.
func NewColumn(title, path string, kind ColumnKind) (Column, error) {
	e, err := compilePath(path)
	if err != nil {
		return Column{}, fmt.Errorf("column %s: %w", title, err)
	}
	return Column{Title: title, Path: path, Kind: kind, expr: e}, nil
}

// Cell renders the column for one entry.
func (c *Column) Cell(e Entry) string {
	if e.res == nil {
		return ""
	}
	var ev evaluator
	return c.cell(&ev, e.res)
}

func (c *Column) cell(ev *evaluator, res *node) string {
	e := c.expr
	if e == nil { // a Column built by hand rather than by NewColumn
		var err error
		if e, err = compilePath(c.Path); err != nil {
			return ""
		}
	}
	return renderValues(ev.eval(e, res), c)
}

// Table is a resource list laid out in columns. Rows and Entries are
// parallel: Entries[i] is the entry behind Rows[i].
type Table struct {
	ResourceType string
	Columns      []string     // titles
	Kinds        []ColumnKind // how each column sorts
	Rows         [][]string   // cell text
	Entries      []*Entry     // the entry behind each row
}

// Rows lays out the bundle's entries of resourceType in its Care Connect
// columns. It works on the JSON tree decoded with the envelope and never
// runs the typed parser; entries that would fail typed parsing get rows
// like any other (their Warnings say what is wrong once the bundle has
// been validated).
func Rows(resourceType string, b *Bundle) Table {
	return RowsWith(resourceType, ColumnsFor(resourceType), b)
}

// RowsWith is Rows with columns of the caller's choosing.
func RowsWith(resourceType string, cols []Column, b *Bundle) Table {
	t := Table{ResourceType: resourceType, Columns: make([]string, len(cols)), Kinds: make([]ColumnKind, len(cols))}
	exprs := make([]*pathExpr, len(cols))
	for i := range cols {
		t.Columns[i] = cols[i].Title
		t.Kinds[i] = cols[i].Kind
		exprs[i] = cols[i].expr
		if exprs[i] == nil {
			exprs[i], _ = compilePath(cols[i].Path) // a bad path gives an empty column
		}
	}
	if b == nil {
		return t
	}
	n := 0
	for i := range b.Entries {
		if b.Entries[i].ResourceType == resourceType {
			n++
		}
	}
	if n == 0 {
		return t
	}
	t.Rows = make([][]string, 0, n)
	t.Entries = make([]*Entry, 0, n)
	cells := make([]string, n*len(cols))
	var ev evaluator
	for i := range b.Entries {
		e := &b.Entries[i]
		if e.ResourceType != resourceType {
			continue
		}
		row := cells[:len(cols):len(cols)]
		cells = cells[len(cols):]
		if e.res != nil {
			for ci := range cols {
				if exprs[ci] != nil {
					row[ci] = renderValues(ev.eval(exprs[ci], e.res), &cols[ci])
				}
			}
		}
		t.Rows = append(t.Rows, row)
		t.Entries = append(t.Entries, e)
	}
	return t
}

// Warnings returns the warnings of the entry behind row i: problems the
// decoder saw and, once the bundle has been validated, the typed parser's
// messages. The UI marks rows that have any.
func (t *Table) Warnings(row int) []Warning {
	if row < 0 || row >= len(t.Entries) || t.Entries[row] == nil {
		return nil
	}
	return t.Entries[row].Warnings()
}

// Sort orders the rows by column col, keeping Entries in step. Empty cells
// go last in either direction; ties keep their order.
func (t *Table) Sort(col int, descending bool) {
	if col < 0 || col >= len(t.Columns) || len(t.Rows) < 2 {
		return
	}
	k := KindText
	if col < len(t.Kinds) {
		k = t.Kinds[col]
	}
	type keyed struct {
		text  string
		num   float64
		isNum bool
		i     int
	}
	keys := make([]keyed, len(t.Rows))
	for i, r := range t.Rows {
		cell := ""
		if col < len(r) {
			cell = r[col]
		}
		kk := keyed{i: i}
		switch k {
		case KindNumber:
			kk.num, kk.isNum = leadingNumber(cell)
			kk.text = strings.ToLower(cell)
		case KindSize:
			kk.num, kk.isNum = digitsNumber(cell)
		case KindDate:
			kk.text = cell
		default:
			kk.text = strings.ToLower(cell)
		}
		if cell == "" {
			kk.i = -1 - i // marks empty
		}
		keys[i] = kk
	}
	slices.SortStableFunc(keys, func(a, b keyed) int {
		ae, be := a.i < 0, b.i < 0
		switch {
		case ae && be:
			return 0
		case ae:
			return 1
		case be:
			return -1
		}
		var c int
		switch {
		case a.isNum && b.isNum:
			c = cmp.Compare(a.num, b.num)
		case a.isNum != b.isNum:
			if a.isNum {
				c = -1
			} else {
				c = 1
			}
		default:
			c = strings.Compare(a.text, b.text)
		}
		if descending {
			c = -c
		}
		return c
	})
	rows := make([][]string, len(t.Rows))
	var entries []*Entry
	if len(t.Entries) == len(t.Rows) {
		entries = make([]*Entry, len(t.Entries))
	}
	for j, kk := range keys {
		i := kk.i
		if i < 0 {
			i = -1 - i
		}
		rows[j] = t.Rows[i]
		if entries != nil {
			entries[j] = t.Entries[i]
		}
	}
	t.Rows = rows
	if entries != nil {
		t.Entries = entries
	}
}

// leadingNumber parses the number a cell starts with ("120/80 mmHg" is
// 120).
func leadingNumber(s string) (float64, bool) {
	s = strings.TrimLeft(s, "<>=≤≥ ")
	end := 0
	for end < len(s) && (isDigit(s[end]) || s[end] == '.' || (end == 0 && s[end] == '-')) {
		end++
	}
	f, err := strconv.ParseFloat(s[:end], 64)
	return f, err == nil
}

// digitsNumber reads the digits of a cell ("12,345 bytes" is 12345).
func digitsNumber(s string) (float64, bool) {
	var n float64
	found := false
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n = n*10 + float64(s[i]-'0')
			found = true
		} else if s[i] != ',' {
			break
		}
	}
	return n, found
}
