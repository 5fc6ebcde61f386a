package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// wantAccess lists, per policy and demo client, the types it may read; the rest must be 403.
var wantAccess = map[string]map[string][]string{
	PolicyCCRI: {
		ClientMedicationAccess: resourceTypes,
		ClientPatientAccess:    {typePatient, typeOrganization, typePractitioner, typeLocation},
		ClientClinicalAccess: {typePatient, typeObservation, typeEncounter, typeCondition, typeMedicationStatement,
			typeImmunization, typeMedicationRequest, typeProcedure, typeOrganization, typePractitioner, typeLocation},
		ClientLimitedAccess: {typeOrganization, typePractitioner, typeLocation},
	},
	PolicySMART: {
		ClientMedicationAccess: resourceTypes,
		ClientPatientAccess:    {typePatient, typeOrganization, typePractitioner, typeLocation},
		ClientClinicalAccess: {typePatient, typeObservation, typeEncounter, typeCondition, typeMedicationStatement,
			typeImmunization, typeMedicationRequest, typeOrganization, typePractitioner, typeLocation},
		ClientLimitedAccess: {typeOrganization, typePractitioner, typeLocation},
	},
}

func TestAccessTableEveryClientAndType(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{PolicyCCRI, PolicySMART} {
		s := startSandbox(t, Config{Policy: policy, Patients: 5})
		for _, client := range []string{ClientMedicationAccess, ClientPatientAccess, ClientClinicalAccess, ClientLimitedAccess} {
			tok := clientToken(t, s, client)
			for _, typ := range resourceTypes {
				want := http.StatusForbidden
				for _, ok := range wantAccess[policy][client] {
					if ok == typ {
						want = http.StatusOK
					}
				}
				for _, path := range []string{"/" + typ + "?_count=1", "/" + typ + "/1"} {
					t.Run(fmt.Sprintf("%s/%s%s", policy, client, path), func(t *testing.T) {
						r := get(t, s.FHIRBase()+path, tok)
						if r.status != want {
							t.Fatalf("status %d, want %d: %.200s", r.status, want, r.body)
						}
						if want == http.StatusForbidden {
							h := r.header.Get("WWW-Authenticate")
							if !strings.Contains(h, `error="insufficient_scope"`) || !strings.Contains(h, `scope="`) {
								t.Errorf("WWW-Authenticate %q", h)
							}
							need := neededScopes(policy, typ, accessRead)[0]
							if d := outcome(t, r); !strings.Contains(d, need) {
								t.Errorf("diagnostics %q do not name %s", d, need)
							}
						}
					})
				}
			}
		}
	}
}

func TestScopePolicies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		policy, scope, typ string
		a                  access
		want               bool
	}{
		{PolicyCCRI, "user/Patient.read", typePatient, accessSearch, true},
		{PolicyCCRI, "patient/Patient.read", typePatient, accessRead, true},
		{PolicyCCRI, "system/Patient.*", typePatient, accessRead, true},
		{PolicyCCRI, "Patient.read", typePatient, accessRead, false},
		{PolicyCCRI, "user/Patient", typePatient, accessRead, false},
		{PolicyCCRI, "user/Patient.write", typePatient, accessRead, false},
		{PolicyCCRI, "user/Observation.read", typeProcedure, accessRead, true},
		{PolicyCCRI, "user/Procedure.read", typeProcedure, accessRead, false},
		{PolicyCCRI, "user/MedicationPrescription.read", typeMedicationRequest, accessRead, true},
		{PolicyCCRI, "user/MedicationOrder.read", typeMedicationRequest, accessRead, true},
		{PolicyCCRI, "user/MedicationRequest.read", typeMedicationRequest, accessRead, true},
		{PolicyCCRI, "user/Binary", typeBinary, accessRead, true},
		{PolicyCCRI, "user/DocumentReference", typeDocumentReference, accessSearch, true},
		{PolicyCCRI, "user/DocumentReference.read", typeDocumentReference, accessSearch, true},
		{PolicyCCRI, "user/*.read", typeBinary, accessRead, true},
		{PolicyCCRI, "profile", typeOrganization, accessRead, true},
		{PolicySMART, "user/Patient.read", typePatient, accessSearch, true},
		{PolicySMART, "user/Patient.rs", typePatient, accessSearch, true},
		{PolicySMART, "user/Patient.r", typePatient, accessRead, true},
		{PolicySMART, "user/Patient.r", typePatient, accessSearch, false},
		{PolicySMART, "user/Patient.s", typePatient, accessRead, false},
		{PolicySMART, "patient/*.cruds", typeObservation, accessSearch, true},
		{PolicySMART, "user/Patient.sr", typePatient, accessRead, false},
		{PolicySMART, "user/Patient.rr", typePatient, accessRead, false},
		{PolicySMART, "user/Patient.rs?gender=male", typePatient, accessRead, false},
		{PolicySMART, "user/Observation.read", typeProcedure, accessRead, false},
		{PolicySMART, "user/MedicationPrescription.read", typeMedicationRequest, accessRead, false},
		{PolicySMART, "user/Binary", typeBinary, accessRead, false},
		{PolicySMART, "user/Patient.write", typePatient, accessRead, false},
		{PolicySMART, "launch/patient", typePatient, accessRead, false},
		{PolicyCCRI, "user/*.read", "Unknown", accessRead, false},
	}
	for _, tt := range tests {
		exported := MayRead
		if tt.a == accessSearch {
			exported = MaySearch
		}
		if got := exported(tt.policy, []string{tt.scope}, tt.typ); got != tt.want {
			t.Errorf("%s: %q on %s (%v) = %v, want %v", tt.policy, tt.scope, tt.typ, tt.a, got, tt.want)
		}
	}
}

type resourceCheck func(m map[string]any) bool

func field(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			if len(x) == 0 {
				return nil
			}
			v = x[0].(map[string]any)[p]
		default:
			return nil
		}
	}
	return v
}

func hasString(m map[string]any, want string) bool {
	b, _ := json.Marshal(m)
	return strings.Contains(string(b), want)
}

func TestSearchParameters(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{Patients: 40, Seed: 3})
	tok := clientToken(t, s, ClientMedicationAccess)
	p1 := s.data.patients[0].data.(*patientData)
	spacedNHS := p1.nhs[:3] + " " + p1.nhs[3:6] + " " + p1.nhs[6:]
	ods := s.data.lookup(typeOrganization, "1").data.(*organizationData)
	pd := p1.gp.data.(*practitionerData)
	tests := []struct {
		query    string
		minTotal int
		check    resourceCheck
	}{
		{"Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|" + url.QueryEscape(spacedNHS), 1, func(m map[string]any) bool { return m["id"] == "1" }},
		{"Patient?identifier=" + p1.nhs, 1, func(m map[string]any) bool { return m["id"] == "1" }},
		{"Patient?family=" + strings.ToLower(p1.family[:3]), 1, func(m map[string]any) bool {
			return strings.HasPrefix(strings.ToLower(field(m, "name", "family").(string)), strings.ToLower(p1.family[:3]))
		}},
		{"Patient?family:exact=" + p1.family, 1, func(m map[string]any) bool { return field(m, "name", "family") == p1.family }},
		{"Patient?given=" + strings.ToUpper(p1.given[0]), 1, func(m map[string]any) bool { return hasString(m, p1.given[0]) }},
		{"Patient?name=" + p1.family, 1, func(m map[string]any) bool { return hasString(m, p1.family) }},
		{"Patient?birthdate=" + p1.birth.fhir(), 1, func(m map[string]any) bool { return m["birthDate"] == p1.birth.fhir() }},
		{"Patient?birthdate=ge1980-01-01&birthdate=lt1990", 1, func(m map[string]any) bool {
			b := m["birthDate"].(string)
			return b >= "1980-01-01" && b < "1990-01-01"
		}},
		{"Patient?birthdate=" + p1.birth.fhir()[:4], 1, func(m map[string]any) bool { return strings.HasPrefix(m["birthDate"].(string), p1.birth.fhir()[:4]) }},
		{"Patient?gender=female", 1, func(m map[string]any) bool { return m["gender"] == "female" }},
		{"Patient?gender=http://hl7.org/fhir/administrative-gender|male", 1, func(m map[string]any) bool { return m["gender"] == "male" }},
		{"Patient?address-postalcode=" + url.QueryEscape(strings.ToLower(p1.postcode[:len(p1.postcode)-1])), 1, func(m map[string]any) bool { return hasString(m, p1.postcode[:len(p1.postcode)-1]) }},
		{"Patient?email=" + strings.ToUpper(p1.email), 1, func(m map[string]any) bool { return m["id"] == "1" }},
		{"Patient?phone=" + strings.ReplaceAll(p1.mobile, " ", ""), 1, func(m map[string]any) bool { return hasString(m, p1.mobile) }},
		{"Patient?_id=1,2", 2, func(m map[string]any) bool { return m["id"] == "1" || m["id"] == "2" }},
		{"Observation?patient=1", 9, func(m map[string]any) bool { return field(m, "subject", "reference") == "Patient/1" }},
		{"Observation?subject=Patient/1&category=vital-signs", 8, func(m map[string]any) bool { return field(m, "category", "coding", "code") == "vital-signs" }},
		{"Observation?patient=" + url.QueryEscape(s.FHIRBase()+"/Patient/1"), 9, func(m map[string]any) bool { return field(m, "subject", "reference") == "Patient/1" }},
		{"Observation?code=http://snomed.info/sct|75367002", 40, func(m map[string]any) bool { return hasString(m, `"75367002"`) }},
		{"Observation?code=http://loinc.org|8867-4,http://snomed.info/sct|27113001", 80, func(m map[string]any) bool {
			return hasString(m, `"8867-4"`) || hasString(m, `"27113001"`)
		}},
		{"Observation?code=8867-4", 40, func(m map[string]any) bool { return hasString(m, `"8867-4"`) }},
		{"Observation?category=social-history", 40, func(m map[string]any) bool { return hasString(m, "229819007") }},
		{"Observation?date=ge2024-01-01", 1, func(m map[string]any) bool { return m["effectiveDateTime"].(string) >= "2024-01-01" }},
		{"Observation?date=lt2020", 1, func(m map[string]any) bool { return m["effectiveDateTime"].(string) < "2020" }},
		{"Observation?identifier=" + sysLocalBase + "observation|100001", 1, func(m map[string]any) bool { return hasString(m, "100001") }},
		{"Encounter?patient=2&status=finished", 2, func(m map[string]any) bool { return m["status"] == "finished" }},
		{"Encounter?type=http://snomed.info/sct|11429006", 1, func(m map[string]any) bool { return hasString(m, "11429006") }},
		{"Encounter?date=ge2020-01-01", 1, func(m map[string]any) bool {
			end, _ := field(m, "period", "end").(string)
			start, _ := field(m, "period", "start").(string)
			return end >= "2020-01-01" || start >= "2020-01-01"
		}},
		{"Condition?patient=1&category=problem-list-item,encounter-diagnosis", 1, func(m map[string]any) bool { return field(m, "subject", "reference") == "Patient/1" }},
		{"Condition?clinical-status=active", 1, func(m map[string]any) bool { return m["clinicalStatus"] == "active" }},
		{"Condition?asserted-date=le2030", 40, func(m map[string]any) bool { return m["assertedDate"] != nil }},
		{"Procedure?date=ge2015", 1, func(m map[string]any) bool { return m["performedDateTime"].(string) >= "2015" }},
		{"AllergyIntolerance?clinical-status=active&verification-status=confirmed", 1, func(m map[string]any) bool {
			return m["clinicalStatus"] == "active" && m["verificationStatus"] == "confirmed"
		}},
		{"AllergyIntolerance?date=gt2016-06", 1, func(m map[string]any) bool { return m["assertedDate"].(string) >= "2016-07" }},
		{"MedicationRequest?status=active&code=http://snomed.info/sct|325278007,319773006,320000009,39113611000001102", 1, func(m map[string]any) bool { return m["status"] == "active" }},
		{"MedicationRequest?authoredon=ge2015", 1, func(m map[string]any) bool { return m["authoredOn"].(string) >= "2015" }},
		{"MedicationStatement?status=completed", 1, func(m map[string]any) bool { return m["status"] == "completed" }},
		{"MedicationStatement?effective=ge2026-01-01&status=active", 1, func(m map[string]any) bool { return m["status"] == "active" }},
		{"Immunization?notgiven=true", 1, func(m map[string]any) bool { return m["notGiven"] == true }},
		{"Immunization?notgiven=false&status=completed&date=ge2015", 1, func(m map[string]any) bool { return m["notGiven"] == false }},
		{"DocumentReference?type=http://snomed.info/sct|371530004", 1, func(m map[string]any) bool { return hasString(m, "371530004") }},
		{"DocumentReference?patient=1&period=ge2015", 0, func(m map[string]any) bool { return field(m, "subject", "reference") == "Patient/1" }},
		{"Organization?identifier=" + ods.ods, 1, func(m map[string]any) bool { return m["name"] == ods.name }},
		{"Organization?name=" + url.QueryEscape(strings.ToLower(strings.Fields(ods.name)[1])), 1, func(m map[string]any) bool { return hasString(m, strings.Fields(ods.name)[1]) }},
		{"Organization?address-postalcode=" + url.QueryEscape(ods.postcode), 1, func(m map[string]any) bool { return hasString(m, ods.postcode) }},
		{"Practitioner?identifier=" + sysSDSUser + "|" + pd.sds, 1, func(m map[string]any) bool { return hasString(m, pd.sds) }},
		{"Practitioner?name=" + pd.family, 1, func(m map[string]any) bool { return hasString(m, pd.family) }},
		{"Location?identifier=RXA01", 1, func(m map[string]any) bool { return hasString(m, "RXA01") }},
		{"Location?name=moorland", 1, func(m map[string]any) bool { return hasString(m, "Moorland") }},
		{"Binary?_id=1", 1, func(m map[string]any) bool { return m["contentType"] != nil }},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			b := decodeBundle(t, get(t, s.FHIRBase()+"/"+tt.query+"&_count=500", tok))
			if b.Total < tt.minTotal || len(b.Entry) != b.Total {
				t.Fatalf("total %d, entries %d, want at least %d", b.Total, len(b.Entry), tt.minTotal)
			}
			for _, e := range b.Entry {
				var m map[string]any
				if err := json.Unmarshal(e.Resource, &m); err != nil {
					t.Fatal(err)
				}
				if !tt.check(m) {
					t.Errorf("entry does not match: %s", e.Resource)
				}
				if e.Search.Mode != "match" || !strings.HasSuffix(e.FullURL, "/"+m["resourceType"].(string)+"/"+m["id"].(string)) {
					t.Errorf("entry %s mode %s", e.FullURL, e.Search.Mode)
				}
			}
		})
	}
	// Complementary searches partition the data.
	all := decodeBundle(t, get(t, s.FHIRBase()+"/Observation?_count=0", tok)).Total
	ge := decodeBundle(t, get(t, s.FHIRBase()+"/Observation?date=ge2021-06-15&_count=0", tok)).Total
	lt := decodeBundle(t, get(t, s.FHIRBase()+"/Observation?date=lt2021-06-15&_count=0", tok)).Total
	if ge+lt != all || ge == 0 || lt == 0 {
		t.Errorf("ge %d + lt %d != %d", ge, lt, all)
	}
	male := decodeBundle(t, get(t, s.FHIRBase()+"/Patient?gender=male&_count=0", tok)).Total
	female := decodeBundle(t, get(t, s.FHIRBase()+"/Patient?gender=female&_count=0", tok)).Total
	if male+female != 40 {
		t.Errorf("male %d + female %d != 40", male, female)
	}
}

func TestPagingToTheLastPage(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{Patients: 30})
	tok := clientToken(t, s, ClientMedicationAccess)
	first := decodeBundle(t, get(t, s.FHIRBase()+"/Observation?category=vital-signs&_count=7", tok))
	if first.link("self") == "" || first.link("next") == "" || first.link("previous") != "" {
		t.Fatalf("links %+v", first.Link)
	}
	seen := map[string]bool{}
	page, pages := first, 0
	for {
		pages++
		for _, e := range page.Entry {
			if seen[e.FullURL] {
				t.Fatalf("duplicate %s", e.FullURL)
			}
			seen[e.FullURL] = true
		}
		if page.Total != first.Total {
			t.Fatalf("total changed %d -> %d", first.Total, page.Total)
		}
		next := page.link("next")
		if next == "" {
			break
		}
		page = decodeBundle(t, get(t, next, tok))
		if page.link("previous") == "" {
			t.Fatalf("page %d has no previous link", pages+1)
		}
	}
	if len(seen) != first.Total || pages != (first.Total+6)/7 {
		t.Errorf("saw %d of %d in %d pages", len(seen), first.Total, pages)
	}
	if last := decodeBundle(t, get(t, first.link("last"), tok)); last.link("next") != "" || len(last.Entry) != len(page.Entry) {
		t.Errorf("last link: %d entries", len(last.Entry))
	}
	// _count is capped at 500 and defaults to 20.
	if b := decodeBundle(t, get(t, s.FHIRBase()+"/Observation?_count=100000", tok)); len(b.Entry) != min(500, b.Total) {
		t.Errorf("_count cap: %d entries", len(b.Entry))
	}
	if b := decodeBundle(t, get(t, s.FHIRBase()+"/Patient", tok)); len(b.Entry) != 20 || b.Total != 30 {
		t.Errorf("default page: %d of %d", len(b.Entry), b.Total)
	}
	if b := decodeBundle(t, get(t, s.FHIRBase()+"/Patient?_getpagesoffset=1000", tok)); len(b.Entry) != 0 || b.Total != 30 {
		t.Errorf("past the end: %d of %d", len(b.Entry), b.Total)
	}
}

func TestIncludesAreFilteredByScope(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{Patients: 10})
	medPatient := s.data.patients[s.data.lookup(typeMedicationRequest, "1").patient].id
	type want struct {
		match, include map[string]bool // resource types expected
		outcome        string          // substring of the outcome entry, "" for none
	}
	tests := []struct {
		client, query string
		want          want
	}{
		{ClientMedicationAccess, "Patient?_id=1&_revinclude=Observation:patient&_include=Patient:general-practitioner",
			want{map[string]bool{"Patient": true}, map[string]bool{"Observation": true, "Practitioner": true, "Organization": true}, ""}},
		{ClientPatientAccess, "Patient?_id=1&_revinclude=Observation:patient&_revinclude=Condition:patient&_include=Patient:general-practitioner",
			want{map[string]bool{"Patient": true}, map[string]bool{"Practitioner": true, "Organization": true}, "Observation"}},
		{ClientClinicalAccess, "Encounter?patient=1&_include=Encounter:patient&_include=Encounter:participant&_include=Encounter:service-provider",
			want{map[string]bool{"Encounter": true}, map[string]bool{"Patient": true, "Practitioner": true, "Organization": true}, ""}},
		{ClientClinicalAccess, "Patient?_id=1&_revinclude=AllergyIntolerance:patient&_revinclude=Immunization:patient&_include=Patient:organization",
			want{map[string]bool{"Patient": true}, map[string]bool{"Immunization": true, "Organization": true}, "AllergyIntolerance"}},
		{ClientMedicationAccess, "MedicationRequest?patient=" + medPatient + "&_include=MedicationRequest:patient",
			want{map[string]bool{"MedicationRequest": true}, map[string]bool{"Patient": true}, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.client+" "+tt.query, func(t *testing.T) {
			b := decodeBundle(t, get(t, s.FHIRBase()+"/"+tt.query, clientToken(t, s, tt.client)))
			got := map[string]map[string]bool{"match": {}, "include": {}}
			outcomeText := ""
			for _, e := range b.Entry {
				var m map[string]any
				if err := json.Unmarshal(e.Resource, &m); err != nil {
					t.Fatal(err)
				}
				typ := m["resourceType"].(string)
				if e.Search.Mode == "outcome" {
					if typ != "OperationOutcome" {
						t.Errorf("outcome entry is a %s", typ)
					}
					outcomeText = string(e.Resource)
					continue
				}
				got[e.Search.Mode][typ] = true
			}
			if fmt.Sprint(got["match"]) != fmt.Sprint(tt.want.match) || fmt.Sprint(got["include"]) != fmt.Sprint(tt.want.include) {
				t.Errorf("got %v, want match %v include %v", got, tt.want.match, tt.want.include)
			}
			if (tt.want.outcome == "") != (outcomeText == "") || !strings.Contains(outcomeText, tt.want.outcome) {
				t.Errorf("outcome %q, want mention of %q", outcomeText, tt.want.outcome)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{Patients: 5})
	tok := clientToken(t, s, ClientMedicationAccess)
	tests := []struct {
		method, path string
		header       []string
		want         int
	}{
		{"GET", "/Patient?foo=bar", nil, 400},
		{"GET", "/Patient?birthdate=not-a-date", nil, 400},
		{"GET", "/Patient?birthdate=2019-13-01", nil, 400},
		{"GET", "/Patient?birthdate=xx2019", nil, 400},
		{"GET", "/Patient?_count=-1", nil, 400},
		{"GET", "/Patient?_count=ten", nil, 400},
		{"GET", "/Patient?_include=Patient:nonsense", nil, 400},
		{"GET", "/Patient?_revinclude=Patient:link", nil, 400},
		{"GET", "/Observation?_revinclude=Condition:patient", nil, 400},
		{"GET", "/Patient?gender:contains=ma", nil, 400},
		{"GET", "/Patient?family:fuzzy=x", nil, 400},
		{"GET", "/Observation?patient=Observation/1", nil, 400},
		{"GET", "/Observation?code=|", nil, 400},
		{"GET", "/Observation?date=ge", nil, 400},
		{"GET", "/Organization?birthdate=2000", nil, 400},
		{"GET", "/Unknown", nil, 404},
		{"GET", "/Unknown/1", nil, 404},
		{"GET", "/Patient/999999", nil, 404},
		{"GET", "/Patient/abc", nil, 404},
		{"GET", "/Patient/1/_history", nil, 404},
		{"GET", "", nil, 400},
		{"POST", "/Patient", nil, 405},
		{"DELETE", "/Patient/1", nil, 405},
		{"PUT", "/Patient/1", nil, 405},
		{"GET", "/Patient", []string{"Accept", "application/fhir+xml"}, 406},
		{"GET", "/Patient", []string{"Accept", "application/xml+fhir, text/xml;q=0.5"}, 406},
		{"GET", "/metadata", []string{"Accept", "application/fhir+xml"}, 406},
		{"GET", "/Patient?_format=xml", nil, 406},
		{"POST", "/Patient", []string{"Content-Type", "application/fhir+xml"}, 406},
		{"GET", "/Patient?_format=json", nil, 200},
		{"GET", "/Patient", []string{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+strings.Join(tt.header, ":"), func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.FHIRBase()+tt.path, strings.NewReader(""))
			req.Header.Set("Authorization", "Bearer "+tok)
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Set(tt.header[i], tt.header[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body []byte
			body, _ = readAll(resp)
			r := fhirResponse{resp.StatusCode, resp.Header, body}
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.status, tt.want, body)
			}
			if tt.want != 200 {
				if d := outcome(t, r); len(d) < 10 {
					t.Errorf("diagnostics too short: %q", d)
				}
			}
			if tt.want == 405 && resp.Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

func TestContentTypesAndBinary(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Config{Patients: 10})
	tok := clientToken(t, s, ClientMedicationAccess)
	if r := get(t, s.FHIRBase()+"/Patient/1", tok); !strings.HasPrefix(r.header.Get("Content-Type"), "application/fhir+json") {
		t.Errorf("content type %q", r.header.Get("Content-Type"))
	}
	if r := get(t, s.FHIRBase()+"/Patient/1", tok, "Accept", "application/json+fhir"); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json+fhir") {
		t.Errorf("legacy: %d %q", r.status, r.header.Get("Content-Type"))
	}
	kinds := map[string]bool{}
	for _, rec := range s.data.table(typeBinary).records {
		ct := rec.data.(*binaryData).contentType
		raw := get(t, s.FHIRBase()+"/Binary/"+rec.id, tok, "Accept", ct)
		if raw.status != 200 || raw.header.Get("Content-Type") != ct {
			t.Fatalf("raw Binary/%s: %d %q", rec.id, raw.status, raw.header.Get("Content-Type"))
		}
		if ct == "application/pdf" && (!strings.HasPrefix(string(raw.body), "%PDF-1.4") || !strings.HasSuffix(string(raw.body), "%%EOF\n")) {
			t.Errorf("Binary/%s is not a PDF: %.40q", rec.id, raw.body)
		}
		res := get(t, s.FHIRBase()+"/Binary/"+rec.id, tok, "Accept", "application/fhir+json")
		var bin struct {
			ResourceType, ContentType, Content string
		}
		if err := json.Unmarshal(res.body, &bin); err != nil || bin.ResourceType != "Binary" || bin.ContentType != ct {
			t.Fatalf("Binary/%s as FHIR: %s", rec.id, res.body)
		}
		if dec, err := base64.StdEncoding.DecodeString(bin.Content); err != nil || string(dec) != string(raw.body) {
			t.Errorf("Binary/%s content differs from raw", rec.id)
		}
		kinds[ct] = true
	}
	if !kinds["text/plain"] || !kinds["application/pdf"] {
		t.Errorf("content types %v", kinds)
	}
	// Every DocumentReference points at a Binary that exists.
	b := decodeBundle(t, get(t, s.FHIRBase()+"/DocumentReference?_count=500", tok))
	for _, e := range b.Entry {
		var d struct {
			Content []struct {
				Attachment struct{ URL, ContentType string }
			}
		}
		_ = json.Unmarshal(e.Resource, &d)
		if r := get(t, s.FHIRBase()+"/"+d.Content[0].Attachment.URL, tok); r.status != 200 || r.header.Get("Content-Type") != d.Content[0].Attachment.ContentType {
			t.Errorf("%s: %d %q", d.Content[0].Attachment.URL, r.status, r.header.Get("Content-Type"))
		}
	}
}
