package fhirclient

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ccriDir holds the CCRI's own example resources (see its README).
const ccriDir = "../../shared/fixtures/careconnect-stu3/ccri"

// TestCheckFixtures opens every file of the CCRI examples: each JSON file
// must give rows with the values below, the two Observations that break
// STU3 (category and performer as objects) must still give rows and, once
// validated, carry jsonformat's messages as warnings; XML files must fail
// with ErrXMLNotSupported.
func TestCheckFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(ccriDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("no CCRI fixtures at %s (the shared fixtures folder is not checked out next to the repo)", ccriDir)
	}
	want := map[string]struct {
		cells    map[string]string // column title -> cell
		warnings []string          // substrings of the jsonformat warnings after Validate
	}{
		"Patient.json": {cells: map[string]string{
			"NHS number": "9014017642", "Name": "SCHULTZ, Opal", "Gender": "female", "Birth date": "1992-08-06",
			"Postcode": "LS25 2AB", "GP practice": "Practitioner/1", "Ethnic category": "British, Mixed British",
			"NHS number status": "Number present and verified",
		}},
		"Observation.json": {cells: map[string]string{
			"Date": "2015-12-03 13:30", "Code": "Respiratory rate", "Value": "16 /min", "Category": "vital-signs", "Status": "final",
		}},
		"Observation-BodyMassIndex.json": {cells: map[string]string{
			"Date": "1999-07-02", "Code": "Observation of body mass index", "Value": "16.2 kg/m2",
			"Category": "Body measurement finding", "Status": "final",
		}, warnings: []string{`error at "Observation.category": expected array`, `error at "Observation.performer": expected array`}},
		"Observation-SmokingStatus.json": {cells: map[string]string{
			"Date": "1999-08-03", "Code": "Tobacco use and exposure", "Value": "Current some day smoker",
			"Category": "Health-related behavior", "Status": "final",
		}, warnings: []string{`error at "Observation.category": expected array`, `error at "Observation.performer": expected array`}},
		"Encounter.json": {cells: map[string]string{
			"Start": "2017-10-19 16:47", "End": "2017-10-19", "Status": "arrived", "Class": "", "Type": "", "Service provider": "",
		}},
		"Condition.json": {cells: map[string]string{
			"Code": "Sleep Apnea", "Clinical status": "remission", "Verification status": "confirmed",
			"Category": "Encounter Diagnosis", "Onset/asserted": "2017-06-27",
		}},
		"Procedure.json": {cells: map[string]string{
			"Performed": "2017-03-19", "Code": "Diabetes mellitus diet education", "Status": "completed", "Outcome": "successful",
		}},
		"AllergyIntolerance.json": {cells: map[string]string{
			"Code": "Mould antigen", "Clinical status": "active", "Verification status": "confirmed",
			"Criticality": "", "Asserted": "2017-04-13", "Reaction": "",
		}},
		"MedicationRequest.json": {cells: map[string]string{
			"Authored on": "2017-10-18", "Medication": "SNOMED 320141001", "Dosage": "1 or 2 puffs - as required",
			"Status": "completed", "Intent": "order",
		}},
		"Immunization.json": {cells: map[string]string{
			"Date": "1998-01-06", "Vaccine": "MMR", "Status": "completed", "Not given": "no",
		}},
	}
	seen := 0
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			b, err := OpenFile(path)
			if strings.HasSuffix(name, ".xml") {
				if !errors.Is(err, ErrXMLNotSupported) || !strings.Contains(err.Error(), "XML is not supported yet") {
					t.Fatalf("OpenFile(%s) = %v, want a clear XML error", name, err)
				}
				return
			}
			if !strings.HasSuffix(name, ".json") {
				return
			}
			if err != nil {
				t.Fatalf("OpenFile: %v", err)
			}
			if len(b.Entries) != 1 {
				t.Fatalf("%d entries, want 1", len(b.Entries))
			}
			e := b.Entries[0]
			table := Rows(e.ResourceType, b)
			if len(table.Rows) != 1 {
				t.Fatalf("%d rows of %s, want 1", len(table.Rows), e.ResourceType)
			}
			row := table.Rows[0]
			filled := 0
			for _, c := range row {
				if c != "" {
					filled++
				}
			}
			if filled < 2 {
				t.Errorf("row %q has fewer than two values", row)
			}
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expected cells for %s: got %q", name, row)
			}
			seen++
			for title, cell := range w.cells {
				i := slices.Index(table.Columns, title)
				if i < 0 {
					t.Errorf("no column %q in %q", title, table.Columns)
					continue
				}
				if row[i] != cell {
					t.Errorf("%s = %q, want %q", title, row[i], cell)
				}
			}
			if got := table.Warnings(0); len(got) != 0 {
				t.Errorf("warnings before validation: %v", got)
			}
			if err := b.Validate(t.Context(), nil); err != nil {
				t.Fatal(err)
			}
			got := table.Warnings(0)
			var msgs []string
			for _, w := range got {
				if w.Source == SourceParser && w.Severity == "error" {
					msgs = append(msgs, w.Message)
				}
			}
			if !slices.Equal(msgs, w.warnings) {
				t.Errorf("parser warnings %q, want %q", msgs, w.warnings)
			}
			// The same cells after validation: validation never changes rows.
			if again := Rows(e.ResourceType, b); !slices.Equal(again.Rows[0], row) {
				t.Errorf("rows changed after validation: %q, then %q", row, again.Rows[0])
			}
			if _, err := e.Parse(); (err != nil) != (len(w.warnings) > 0) || (err != nil && !errors.Is(err, ErrNonConformant)) {
				t.Errorf("Parse() error = %v", err)
			}
		})
	}
	if seen == 0 {
		t.Errorf("no JSON fixture was checked")
	}
}

// TestFixturesAsOneBundle puts every JSON example into one searchset and
// checks that the bad entries do not hide the good ones.
func TestFixturesAsOneBundle(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(ccriDir, "*.json"))
	if len(files) == 0 {
		t.Skipf("no CCRI fixtures at %s", ccriDir)
	}
	var parts []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, `{"resource":`+string(data)+`,"search":{"mode":"match"}}`)
	}
	data := []byte(`{"resourceType":"Bundle","type":"searchset","entry":[` + strings.Join(parts, ",") + `]}`)
	b, err := DecodeBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Entries) != len(files) {
		t.Fatalf("%d entries, want %d", len(b.Entries), len(files))
	}
	obs := Rows("Observation", b)
	if len(obs.Rows) != 3 {
		t.Fatalf("%d Observation rows, want 3", len(obs.Rows))
	}
	var progress []int
	if err := b.Validate(t.Context(), func(done, total int) {
		if total != len(files) {
			t.Errorf("progress total %d", total)
		}
		progress = append(progress, done)
	}); err != nil {
		t.Fatal(err)
	}
	if len(progress) != len(files) || progress[len(progress)-1] != len(files) {
		t.Errorf("progress calls %v", progress)
	}
	flagged := 0
	for i := range obs.Rows {
		if len(obs.Warnings(i)) > 0 {
			flagged++
		}
	}
	if flagged != 2 {
		t.Errorf("%d flagged Observation rows, want 2", flagged)
	}
}
