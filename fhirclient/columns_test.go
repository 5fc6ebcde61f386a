package fhirclient

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// versionPairs are equivalent resources written as STU3 and as R4, where
// the two releases differ in shape or name.
var versionPairs = []struct {
	name      string
	stu3, r4  string
	wantCells []string // the STU3 cells
	// differ lists the columns whose cells rightly differ: the releases
	// record a different fact there (and another column lines them up).
	differ map[string]string // column -> the R4 cell
}{
	{
		name: "Patient",
		stu3: `{"resourceType":"Patient","id":"p1","identifier":[{"extension":[{"url":"https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1","valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1","code":"01"}]}}],"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}],
			"name":[{"use":"official","family":"Smith","given":["Ann","May"]}],"gender":"female","birthDate":"1980-02-03",
			"address":[{"use":"home","line":["1 High St"],"postalCode":"LS1 1AA"}],"generalPractitioner":[{"reference":"Organization/B86001","display":"Leeds GP"}],
			"extension":[{"url":"https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-EthnicCategory-1","valueCodeableConcept":{"coding":[{"system":"https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-EthnicCategory-1","code":"H"}]}}]}`,
		r4: `{"resourceType":"Patient","id":"p1","identifier":[{"extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus","valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus","code":"01"}]}}],"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}],
			"name":[{"use":"official","family":"Smith","given":["Ann","May"]}],"gender":"female","birthDate":"1980-02-03",
			"address":[{"use":"home","line":["1 High St"],"postalCode":"LS1 1AA"}],"generalPractitioner":[{"reference":"Organization/B86001","display":"Leeds GP"}],
			"extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory","extension":[{"url":"ethnicCategory","valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategory","code":"H"}]}}]}]}`,
		wantCells: []string{"9990000018", "SMITH, Ann May", "female", "1980-02-03", "LS1 1AA", "Leeds GP", "Indian or British Indian", "Number present and verified"},
	},
	{
		name: "Observation",
		stu3: `{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://hl7.org/fhir/observation-category","code":"vital-signs"}]}],
			"code":{"coding":[{"system":"http://snomed.info/sct","code":"75367002","display":"Blood pressure"}]},"effectivePeriod":{"start":"2017-05-01T09:30:00+01:00"},
			"component":[{"code":{"coding":[{"system":"http://snomed.info/sct","code":"72313002"}]},"valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
			{"code":{"coding":[{"system":"http://snomed.info/sct","code":"1091811000000102"}]},"valueQuantity":{"value":80,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`,
		r4: `{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
			"code":{"coding":[{"system":"http://snomed.info/sct","code":"75367002","display":"Blood pressure"}]},"effectivePeriod":{"start":"2017-05-01T09:30:00+01:00"},
			"component":[{"code":{"coding":[{"system":"http://snomed.info/sct","code":"72313002"}]},"valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
			{"code":{"coding":[{"system":"http://snomed.info/sct","code":"1091811000000102"}]},"valueQuantity":{"value":80,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`,
		wantCells: []string{"2017-05-01 09:30", "Blood pressure", "120/80 mmHg", "vital-signs", "final"},
	},
	{
		name: "Encounter",
		stu3: `{"resourceType":"Encounter","status":"finished","class":{"system":"http://hl7.org/fhir/v3/ActCode","code":"AMB","display":"ambulatory"},
			"type":[{"coding":[{"system":"http://snomed.info/sct","code":"185347001"}]}],"period":{"start":"2018-01-02T10:00:00Z","end":"2018-01-02T10:20:00Z"},
			"serviceProvider":{"reference":"Organization/RR8","display":"Leeds Teaching Hospitals"}}`,
		r4: `{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB","display":"ambulatory"},
			"type":[{"coding":[{"system":"http://snomed.info/sct","code":"185347001"}]}],"period":{"start":"2018-01-02T10:00:00Z","end":"2018-01-02T10:20:00Z"},
			"serviceProvider":{"reference":"Organization/RR8","display":"Leeds Teaching Hospitals"}}`,
		wantCells: []string{"2018-01-02 10:00", "2018-01-02 10:20", "finished", "ambulatory", "SNOMED 185347001", "Leeds Teaching Hospitals"},
	},
	{
		name: "Condition",
		stu3: `{"resourceType":"Condition","clinicalStatus":"active","verificationStatus":"confirmed","category":[{"coding":[{"system":"http://hl7.org/fhir/condition-category","code":"problem-list-item","display":"Problem List Item"}]}],
			"code":{"coding":[{"system":"http://snomed.info/sct","code":"22298006"}]},"subject":{"reference":"Patient/1"},"assertedDate":"2017-06-27T00:00:00+01:00"}`,
		r4: `{"resourceType":"Condition","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
			"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},
			"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item","display":"Problem List Item"}]}],
			"code":{"coding":[{"system":"http://snomed.info/sct","code":"22298006"}]},"subject":{"reference":"Patient/1"},"recordedDate":"2017-06-27T00:00:00+01:00"}`,
		wantCells: []string{"SNOMED 22298006", "active", "confirmed", "Problem List Item", "2017-06-27"},
	},
	{
		name: "Procedure",
		stu3: `{"resourceType":"Procedure","status":"completed","code":{"coding":[{"system":"http://snomed.info/sct","code":"80146002","display":"Appendectomy"}]},"subject":{"reference":"Patient/1"},
			"performedPeriod":{"start":"2017-03-19T09:00:00Z","end":"2017-03-19T10:00:00Z"},"outcome":{"text":"successful"}}`,
		r4: `{"resourceType":"Procedure","status":"completed","code":{"coding":[{"system":"http://snomed.info/sct","code":"80146002","display":"Appendectomy"}]},"subject":{"reference":"Patient/1"},
			"performedPeriod":{"start":"2017-03-19T09:00:00Z","end":"2017-03-19T10:00:00Z"},"outcome":{"text":"successful"}}`,
		wantCells: []string{"2017-03-19 09:00 – 2017-03-19 10:00", "Appendectomy", "completed", "successful"},
	},
	{
		name: "AllergyIntolerance",
		stu3: `{"resourceType":"AllergyIntolerance","clinicalStatus":"active","verificationStatus":"confirmed","criticality":"high",
			"code":{"coding":[{"system":"http://snomed.info/sct","code":"91936005","display":"Penicillin allergy"}]},"patient":{"reference":"Patient/1"},
			"assertedDate":"2017-04-13T00:00:00+01:00","reaction":[{"manifestation":[{"coding":[{"system":"http://snomed.info/sct","code":"271807003","display":"Rash"}]}]}]}`,
		r4: `{"resourceType":"AllergyIntolerance","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},
			"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-verification","code":"confirmed"}]},"criticality":"high",
			"code":{"coding":[{"system":"http://snomed.info/sct","code":"91936005","display":"Penicillin allergy"}]},"patient":{"reference":"Patient/1"},
			"recordedDate":"2017-04-13T00:00:00+01:00","reaction":[{"manifestation":[{"coding":[{"system":"http://snomed.info/sct","code":"271807003","display":"Rash"}]}]}]}`,
		wantCells: []string{"Penicillin allergy", "active", "confirmed", "high", "2017-04-13", "Rash"},
	},
	{
		name: "MedicationRequest",
		stu3: `{"resourceType":"MedicationRequest","status":"active","intent":"order","medicationCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"320141001"}]},
			"subject":{"reference":"Patient/2"},"authoredOn":"2017-10-18T00:00:00+01:00","dosageInstruction":[{"doseQuantity":{"value":2,"unit":"puff"}}]}`,
		r4: `{"resourceType":"MedicationRequest","status":"active","intent":"order","medicationCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"320141001"}]},
			"subject":{"reference":"Patient/2"},"authoredOn":"2017-10-18T00:00:00+01:00","dosageInstruction":[{"doseAndRate":[{"doseQuantity":{"value":2,"unit":"puff"}}]}]}`,
		wantCells: []string{"2017-10-18", "SNOMED 320141001", "2 puff", "active", "order"},
	},
	{
		name: "MedicationStatement",
		stu3: `{"resourceType":"MedicationStatement","status":"completed","taken":"y","medicationReference":{"reference":"Medication/1","display":"Salbutamol 100micrograms inhaler"},
			"subject":{"reference":"Patient/2"},"effectiveDateTime":"2018-02-01","dosage":[{"text":"2 puffs when required"}]}`,
		r4: `{"resourceType":"MedicationStatement","status":"completed","medicationReference":{"reference":"Medication/1","display":"Salbutamol 100micrograms inhaler"},
			"subject":{"reference":"Patient/2"},"effectiveDateTime":"2018-02-01","dosage":[{"text":"2 puffs when required"}]}`,
		wantCells: []string{"2018-02-01", "Salbutamol 100micrograms inhaler", "2 puffs when required", "completed", "yes"},
	},
	{
		name: "Immunization not given",
		stu3: `{"resourceType":"Immunization","status":"completed","notGiven":true,"vaccineCode":{"coding":[{"system":"http://snomed.info/sct","code":"308081000000105","display":"MMR"}]},
			"patient":{"reference":"Patient/2"},"date":"1998-01-06","primarySource":true}`,
		r4: `{"resourceType":"Immunization","status":"not-done","vaccineCode":{"coding":[{"system":"http://snomed.info/sct","code":"308081000000105","display":"MMR"}]},
			"patient":{"reference":"Patient/2"},"occurrenceDateTime":"1998-01-06","primarySource":true}`,
		wantCells: []string{"1998-01-06", "MMR", "completed", "yes"},
		differ:    map[string]string{"Status": "not-done"}, // STU3 says notGiven=true, R4 status=not-done
	},
	{
		name: "Immunization given",
		stu3: `{"resourceType":"Immunization","status":"completed","notGiven":false,"vaccineCode":{"coding":[{"system":"http://snomed.info/sct","code":"308081000000105","display":"MMR"}]},
			"patient":{"reference":"Patient/2"},"date":"1998-01-06T00:00:00+00:00","primarySource":true}`,
		r4: `{"resourceType":"Immunization","status":"completed","vaccineCode":{"coding":[{"system":"http://snomed.info/sct","code":"308081000000105","display":"MMR"}]},
			"patient":{"reference":"Patient/2"},"occurrenceDateTime":"1998-01-06T00:00:00+00:00","primarySource":true}`,
		wantCells: []string{"1998-01-06", "MMR", "completed", "no"},
	},
	{
		name: "DocumentReference",
		stu3: `{"resourceType":"DocumentReference","status":"current","type":{"coding":[{"system":"http://snomed.info/sct","code":"823691000000103","display":"Clinical letter"}]},
			"created":"2018-03-01T12:00:00Z","indexed":"2018-03-02T08:00:00Z","author":[{"reference":"Practitioner/1","display":"Dr Jones"}],
			"content":[{"attachment":{"contentType":"application/pdf","url":"Binary/doc1","title":"Discharge letter"}}]}`,
		r4: `{"resourceType":"DocumentReference","status":"current","type":{"coding":[{"system":"http://snomed.info/sct","code":"823691000000103","display":"Clinical letter"}]},
			"date":"2018-03-02T08:00:00Z","author":[{"reference":"Practitioner/1","display":"Dr Jones"}],
			"content":[{"attachment":{"contentType":"application/pdf","url":"Binary/doc1","title":"Discharge letter","creation":"2018-03-01T12:00:00Z"}}]}`,
		wantCells: []string{"2018-03-01 12:00", "Clinical letter", "current", "Dr Jones", "Discharge letter", "application/pdf"},
	},
	{
		name:      "Binary",
		stu3:      `{"resourceType":"Binary","id":"b1","contentType":"text/plain","content":"aGVsbG8gd29ybGQ="}`,
		r4:        `{"resourceType":"Binary","id":"b1","contentType":"text/plain","data":"aGVsbG8gd29ybGQ="}`,
		wantCells: []string{"b1", "text/plain", "11 bytes"},
	},
	{
		name: "Organization",
		stu3: `{"resourceType":"Organization","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RR8"}],"name":"Leeds Teaching Hospitals NHS Trust",
			"address":[{"line":["St James's University Hospital","Beckett Street"],"city":"Leeds","postalCode":"LS9 7TF"}]}`,
		r4: `{"resourceType":"Organization","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RR8"}],"name":"Leeds Teaching Hospitals NHS Trust",
			"address":[{"line":["St James's University Hospital","Beckett Street"],"city":"Leeds","postalCode":"LS9 7TF"}]}`,
		wantCells: []string{"RR8", "Leeds Teaching Hospitals NHS Trust", "St James's University Hospital, Beckett Street, Leeds, LS9 7TF"},
	},
	{
		name:      "Location",
		stu3:      `{"resourceType":"Location","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-site-code","value":"RR813"}],"name":"St James's","address":{"city":"Leeds","postalCode":"LS9 7TF"}}`,
		r4:        `{"resourceType":"Location","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-site-code","value":"RR813"}],"name":"St James's","address":{"city":"Leeds","postalCode":"LS9 7TF"}}`,
		wantCells: []string{"RR813", "St James's", "Leeds, LS9 7TF"},
	},
}

// TestColumnsSameOnSTU3AndR4 evaluates the one column description of each
// type on an STU3 and an R4 rendering of the same facts: both are valid
// for their release (jsonformat parses them without complaint) and give
// the same cells.
func TestColumnsSameOnSTU3AndR4(t *testing.T) {
	for _, tc := range versionPairs {
		t.Run(tc.name, func(t *testing.T) {
			var rows [2][]string
			var cols []string
			for i, v := range []struct {
				ver  Version
				json string
			}{{STU3, tc.stu3}, {R4, tc.r4}} {
				data := []byte(`{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + v.json + `}]}`)
				b, err := DecodeBundleAs(data, v.ver)
				if err != nil {
					t.Fatalf("%s: %v", v.ver, err)
				}
				e := b.Entries[0]
				if _, err := e.Parse(); err != nil {
					t.Fatalf("%s: the %s example is not valid %s: %v", tc.name, v.ver, v.ver, err)
				}
				table := Rows(e.ResourceType, b)
				if len(table.Rows) != 1 {
					t.Fatalf("%s: %d rows", v.ver, len(table.Rows))
				}
				rows[i] = table.Rows[0]
				cols = table.Columns
			}
			r4 := slices.Clone(rows[1])
			for col, cell := range tc.differ {
				i := slices.Index(cols, col)
				if r4[i] != cell {
					t.Errorf("R4 %s = %q, want %q", col, r4[i], cell)
				}
				r4[i] = rows[0][i]
			}
			if !slices.Equal(rows[0], r4) {
				t.Errorf("STU3 cells %q\n   R4 cells %q", rows[0], rows[1])
			}
			if !slices.Equal(rows[0], tc.wantCells) {
				t.Errorf("cells %q, want %q", rows[0], tc.wantCells)
			}
		})
	}
}

func TestColumnPresets(t *testing.T) {
	for _, typ := range []string{"Patient", "Observation", "Encounter", "Condition", "Procedure", "AllergyIntolerance",
		"MedicationRequest", "MedicationStatement", "Immunization", "DocumentReference", "Binary", "Organization",
		"Practitioner", "Location"} {
		cols := ColumnsFor(typ)
		if len(cols) < 3 {
			t.Errorf("%s: %d columns", typ, len(cols))
		}
		for _, c := range cols {
			if c.expr == nil || c.Title == "" {
				t.Errorf("%s: column %+v is not compiled", typ, c)
			}
		}
	}
	if got := ColumnsFor("Patient"); got[0].Title != "NHS number" || got[1].Title != "Name" {
		t.Errorf("Patient columns start %q, %q", got[0].Title, got[1].Title)
	}
	generic := ColumnsFor("Questionnaire")
	var titles []string
	for _, c := range generic {
		titles = append(titles, c.Title)
	}
	if !slices.Equal(titles, []string{"ID", "Last updated", "Summary"}) {
		t.Errorf("generic columns %q", titles)
	}
}

func TestGenericColumns(t *testing.T) {
	data := []byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Questionnaire","id":"q1","meta":{"lastUpdated":"2019-01-02T03:04:05Z"},
		"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Pre-op   <b>checklist</b></p> &amp; more</div>"}}}]}`)
	b, err := DecodeBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	got := Rows("Questionnaire", b).Rows[0]
	want := []string{"q1", "2019-01-02 03:04", "Pre-op checklist & more"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRenderValues(t *testing.T) {
	tests := []struct {
		name, path, json, want string
		kind                   ColumnKind
	}{
		{"coding display", "code", `{"code":{"coding":[{"system":"http://snomed.info/sct","code":"1","display":"One"}],"text":"t"}}`, "One", KindText},
		{"text over bare code", "code", `{"code":{"coding":[{"system":"http://snomed.info/sct","code":"1"}],"text":"t"}}`, "t", KindText},
		{"short system", "code", `{"code":{"coding":[{"system":"http://snomed.info/sct","code":"22298006"}]}}`, "SNOMED 22298006", KindText},
		{"loinc", "code", `{"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]}}`, "LOINC 8867-4", KindText},
		{"fhir system", "code", `{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/x","code":"abc"}]}}`, "abc", KindText},
		{"read v2", "code", `{"code":{"coding":[{"system":"http://read.info/readv2","code":"H33.."}]}}`, "Read H33..", KindText},
		{"dm+d", "code", `{"code":{"coding":[{"system":"https://dmd.nhs.uk","code":"39113611000001102"}]}}`, "dm+d 39113611000001102", KindText},
		{"coding as object", "category", `{"category":{"coding":{"code":"x","display":"X"}}}`, "X", KindText},
		{"quantity", "value[x]", `{"valueQuantity":{"value":5.0,"comparator":"<","code":"mmol/L"}}`, "<5.0 mmol/L", KindText},
		{"ucum code as unit", "component", `{"component":[{"code":{"text":"s"},"valueQuantity":{"value":118,"unit":"mm[Hg]"}},{"code":{"text":"d"},"valueQuantity":{"value":80,"code":"mm[Hg]"}}]}`, "118/80 mmHg", KindText},
		{"range", "value[x]", `{"valueRange":{"low":{"value":1,"unit":"mg"},"high":{"value":2,"unit":"mg"}}}`, "1–2 mg", KindText},
		{"ratio", "value[x]", `{"valueRatio":{"numerator":{"value":1},"denominator":{"value":2}}}`, "1 / 2", KindText},
		{"string value", "value[x]", `{"valueString":"positive"}`, "positive", KindText},
		{"boolean value", "value[x]", `{"valueBoolean":true}`, "yes", KindText},
		{"period open", "period", `{"period":{"start":"2020-01-01"}}`, "2020-01-01", KindText},
		{"period end only", "period", `{"period":{"end":"2020-01-01"}}`, "– 2020-01-01", KindText},
		{"date with seconds", "d", `{"d":"2020-01-01T00:00:30Z"}`, "2020-01-01 00:00", KindDate},
		{"date midnight millis", "d", `{"d":"2020-01-01T00:00:00.000+01:00"}`, "2020-01-01", KindDate},
		{"date partial", "d", `{"d":"2020-01"}`, "2020-01", KindDate},
		{"not a date", "d", `{"d":"2020-01-01Tnonsense"}`, "2020-01-01Tnonsense", KindDate},
		{"name text", "name", `{"name":[{"text":"Dr A B"}]}`, "Dr A B", KindText},
		{"name given only", "name", `{"name":[{"given":["A"]}]}`, "A", KindText},
		{"reference", "subject", `{"subject":{"reference":"Patient/1"}}`, "Patient/1", KindText},
		{"logical reference", "subject", `{"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}}}`, "9990000018", KindText},
		{"address text", "address", `{"address":[{"text":"1 Road, Town"}]}`, "1 Road, Town", KindText},
		{"list unique", "category", `{"category":[{"text":"a"},{"text":"b"},{"text":"a"}]}`, "a, b", KindText},
		{"mixed components", "component", `{"component":[{"code":{"text":"a"},"valueString":"x"},{"code":{"text":"b"},"valueQuantity":{"value":1,"unit":"kg"}}]}`, "x / 1 kg", KindText},
		{"components other units", "component", `{"component":[{"code":{"text":"a"},"valueQuantity":{"value":1,"unit":"kg"}},{"code":{"text":"b"},"valueQuantity":{"value":2,"unit":"g"}}]}`, "1 kg / 2 g", KindText},
		{"size unpadded", "data", `{"data":"aGVsbG8"}`, "5 bytes", KindSize},
		{"size big", "data", `{"data":"` + strings.Repeat("AAAA", 1000) + `"}`, "3,000 bytes", KindSize},
		{"identifier suffix trailing slash", "identifier[system~nhs-number].value", `{"identifier":[{"system":"http://fhir.nhs.net/Id/nhs-number/","value":"1"}]}`, "1", KindText},
		{"identifier other", "identifier[system~nhs-number].value", `{"identifier":[{"system":"https://x/Id/old-nhs-number","value":"1"},{"system":"https://x/Id/nhs-numbers","value":"2"}]}`, "", KindText},
		{"ods british spelling", orgIdentifier, `{"identifier":[{"system":"local","value":"L"},{"system":"https://fhir.nhs.uk/Id/ods-organisation-code","value":"RR8"}]}`, "RR8", KindText},
		{"fallback identifier", orgIdentifier, `{"identifier":[{"system":"local","value":"L"}]}`, "L", KindText},
		{"null member", "code", `{"code":null}`, "", KindText},
		{"extension with value", "extension", `{"extension":[{"url":"u","valueDateTime":"2001-02-03T04:05:06Z"}]}`, "2001-02-03 04:05", KindText},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			col, err := NewColumn(tc.name, tc.path, tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			if tc.path == orgIdentifier {
				col.First = true
			}
			root, err := parseJSON(tc.json)
			if err != nil {
				t.Fatal(err)
			}
			var ev evaluator
			if got := col.cell(&ev, &root); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCompilePathErrors(t *testing.T) {
	for _, p := range []string{"", "a|", "a.[x]", "a[", "a[b]", "a[=v]", "a[k=]", "a b", "a.|b"} {
		if _, err := compilePath(p); err == nil {
			t.Errorf("compilePath(%q) succeeded", p)
		}
	}
}

func TestSystemIs(t *testing.T) {
	tests := []struct {
		system, name string
		want         bool
	}{
		{"https://fhir.nhs.uk/Id/nhs-number", "nhs-number", true},
		{"http://fhir.nhs.net/Id/nhs-number", "NHS-Number", true},
		{"https://fhir.nhs.uk/Id/nhs-number/", "nhs-number", true},
		{"https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-EthnicCategory-1", "EthnicCategory", true},
		{"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory", "EthnicCategory", true},
		{"https://example/Id/old-nhs-number", "nhs-number", false},
		{"https://example/Id/xnhs-number", "nhs-number", false},
		{"", "nhs-number", false},
		{"nhs-number", "nhs-number", true},
	}
	for _, tc := range tests {
		if got := systemIs(tc.system, tc.name); got != tc.want {
			t.Errorf("systemIs(%q, %q) = %v", tc.system, tc.name, got)
		}
	}
}

func TestTableSort(t *testing.T) {
	var entries []string
	for i, e := range []struct{ date, value, name string }{
		{"2019-05-01", "9", "b"}, {"2018-01-01T10:00:00Z", "120/80 mmHg", "C"}, {"", "", "a"}, {"2020-01-01", "10.5", ""}, {"2017", "n/a", "d"},
	} {
		var parts []string
		if e.date != "" {
			parts = append(parts, fmt.Sprintf(`"effectiveDateTime":%q`, e.date))
		}
		if e.value != "" {
			parts = append(parts, fmt.Sprintf(`"valueString":%q`, e.value))
		}
		if e.name != "" {
			parts = append(parts, fmt.Sprintf(`"code":{"text":%q}`, e.name))
		}
		parts = append(parts, fmt.Sprintf(`"id":"o%d"`, i))
		entries = append(entries, `{"resource":{"resourceType":"Observation",`+strings.Join(parts, ",")+`}}`)
	}
	b, err := DecodeBundle([]byte(`{"resourceType":"Bundle","entry":[` + strings.Join(entries, ",") + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	ids := func(tb Table) string {
		var out []string
		for _, e := range tb.Entries {
			out = append(out, e.ID)
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		col  string
		desc bool
		want string
	}{
		{"Date", false, "o4 o1 o0 o3 o2"},
		{"Date", true, "o3 o0 o1 o4 o2"},
		{"Value", false, "o0 o3 o1 o4 o2"},
		{"Value", true, "o4 o1 o3 o0 o2"},
		{"Code", false, "o2 o0 o1 o4 o3"},
	}
	for _, tc := range tests {
		tb := Rows("Observation", b)
		col := slices.Index(tb.Columns, tc.col)
		tb.Sort(col, tc.desc)
		if got := ids(tb); got != tc.want {
			t.Errorf("sort by %s desc=%v: %s, want %s", tc.col, tc.desc, got, tc.want)
		}
		for i, e := range tb.Entries {
			if tb.Rows[i][col] != Rows("Observation", &Bundle{Entries: []Entry{*e}}).Rows[0][col] {
				t.Errorf("row %d is out of step with its entry", i)
			}
		}
	}
}
