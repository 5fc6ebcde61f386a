package auth

import (
	"errors"
	"strings"
	"testing"
)

// sandboxTypes are the resource types the built-in sandbox serves.
var sandboxTypes = []string{
	"Patient", "Practitioner", "Organization", "Location", "Encounter", "Condition", "Procedure",
	"Observation", "AllergyIntolerance", "MedicationRequest", "MedicationStatement", "Immunization",
	"DocumentReference", "Binary",
}

func TestCCRITable(t *testing.T) {
	// Every row of the CCRI security guide's table, granted exactly as the
	// guide writes it, and refused without it.
	table := map[string]string{
		"Patient":             "user/Patient.read",
		"Observation":         "user/Observation.read",
		"Encounter":           "user/Encounter.read",
		"Condition":           "user/Condition.read",
		"Procedure":           "user/Observation.read",
		"AllergyIntolerance":  "user/AllergyIntolerance.read",
		"MedicationRequest":   "user/MedicationPrescription.read",
		"MedicationStatement": "user/MedicationStatement.read",
		"Immunization":        "user/Immunization.read",
		"DocumentReference":   "user/DocumentReference",
		"Binary":              "user/Binary",
	}
	for typ, scope := range table {
		t.Run(typ, func(t *testing.T) {
			if got, ok := CCRIScopeFor(typ); !ok || got != scope {
				t.Errorf("CCRIScopeFor(%s) = %q, want %q", typ, got, scope)
			}
			a := CheckAccess(PolicyCCRI, []string{scope}, []string{typ})[0]
			if a.Readability != Readable || a.Scope != scope || !strings.Contains(a.Reason, "granted by "+scope) {
				t.Errorf("with %s: %s", scope, a)
			}
			a = CheckAccess(PolicyCCRI, []string{"profile", "openid"}, []string{typ})[0]
			if a.Readability != NotReadable || a.Scope != scope || !strings.Contains(a.Reason, "needs "+scope) {
				t.Errorf("without scopes: %s", a)
			}
			if a.Err() == nil || !errors.Is(a.Err(), ErrInsufficientScope) {
				t.Errorf("Err() = %v, want ErrInsufficientScope", a.Err())
			}
		})
	}
	for _, typ := range []string{"Organization", "Practitioner", "Location"} {
		a := CheckAccess(PolicyCCRI, nil, []string{typ})[0]
		if a.Readability != Readable || !strings.Contains(a.Reason, "any valid token") {
			t.Errorf("%s with no scopes: %s", typ, a)
		}
	}
}

func TestCCRILeniency(t *testing.T) {
	tests := []struct {
		scope, typ string
		want       Readability
		note       string
	}{
		{"patient/Patient.read", "Patient", Readable, "ignores the patient/ prefix"},
		{"system/Observation.read", "Observation", Readable, "ignores the system/ prefix"},
		{"user/*.read", "Immunization", Readable, "* wildcards"},
		{"user/*.read", "Binary", Readable, "* wildcards"},
		{"user/Patient.*", "Patient", Readable, ".* wildcard"},
		{"user/DocumentReference.read", "DocumentReference", Readable, "also accepts the .read suffix"},
		{"patient/Binary.read", "Binary", Readable, "also accepts the .read suffix"},
		{"user/MedicationOrder.read", "MedicationRequest", Readable, "accepts MedicationOrder in place of MedicationPrescription"},
		{"user/MedicationRequest.read", "MedicationRequest", Readable, "accepts MedicationRequest in place of MedicationPrescription"},
		{"user/Observation.read", "Procedure", Readable, "maps Procedure to Observation"},
		{"user/Procedure.read", "Procedure", NotReadable, "needs user/Observation.read"},
		{"user/Patient.write", "Patient", NotReadable, "needs user/Patient.read"},
		{"user/Patient", "Patient", NotReadable, "needs user/Patient.read"},
		{"admin/Patient.read", "Patient", NotReadable, "needs"},
		{"user/Observation.read?category=vital-signs", "Observation", NotReadable, "needs"},
		{"user/MedicationStatement.read", "MedicationRequest", NotReadable, "needs user/MedicationPrescription.read"},
		{"user/Bundle.read", "Bundle", Readable, "granted by user/Bundle.read"},
		{"profile", "Questionnaire", Readable, "does not restrict Questionnaire"},
	}
	for _, tt := range tests {
		a := CheckAccess(PolicyCCRI, []string{tt.scope}, []string{tt.typ})[0]
		if a.Readability != tt.want || !strings.Contains(a.Reason, tt.note) {
			t.Errorf("%s for %s: %s; want %s mentioning %q", tt.scope, tt.typ, a, tt.want, tt.note)
		}
	}
}

// ccriDemoClients are the scopes of the CCRI's four demo clients, as the
// sandbox registers them.
var ccriDemoClients = map[string][]string{
	"medication-access": {"user/Patient.read", "user/Bundle.read", "user/*.read"},
	"patient-access":    {"profile", "patient/Patient.read", "user/Patient.read"},
	"clinical-access": {"profile",
		"user/MedicationStatement.read", "patient/MedicationStatement.read",
		"user/Immunization.read", "patient/Immunization.read",
		"user/Patient.read", "patient/Patient.read",
		"user/Condition.read", "patient/Condition.read",
		"user/MedicationRequest.read", "patient/MedicationRequest.read",
		"user/Encounter.read", "patient/Encounter.read",
		"user/Observation.read", "patient/Observation.read"},
	"limited-access": {"profile"},
}

func TestCCRIDemoClients(t *testing.T) {
	open := []string{"Organization", "Practitioner", "Location"}
	readable := map[string][]string{
		"medication-access": sandboxTypes,
		"patient-access":    append([]string{"Patient"}, open...),
		"clinical-access": append([]string{"Patient", "Encounter", "Condition", "Procedure", "Observation",
			"MedicationRequest", "MedicationStatement", "Immunization"}, open...),
		"limited-access": open,
	}
	for client, scopes := range ccriDemoClients {
		for _, a := range CheckAccess(PolicyCCRI, scopes, sandboxTypes) {
			want := NotReadable
			if contains(strings.Join(readable[client], " ")+" ", a.Type+" ") {
				want = Readable
			}
			if a.Readability != want {
				t.Errorf("%s: %s; want %s", client, a, want)
			}
		}
	}
	// The reasons name the scope, with the CCRI's quirks spelt out.
	a := CheckAccess(PolicyCCRI, ccriDemoClients["clinical-access"], []string{"MedicationRequest", "Procedure"})
	if !strings.Contains(a[0].Reason, "user/MedicationRequest.read") || !strings.Contains(a[0].Reason, "in place of MedicationPrescription") {
		t.Errorf("MedicationRequest reason: %s", a[0].Reason)
	}
	if !strings.Contains(a[1].Reason, "user/Observation.read") || !strings.Contains(a[1].Reason, "maps Procedure to Observation") {
		t.Errorf("Procedure reason: %s", a[1].Reason)
	}
}

func TestSMARTAccess(t *testing.T) {
	tests := []struct {
		name   string
		scopes []string
		typ    string
		want   Readability
		reason string
	}{
		{"v1 read", []string{"user/Observation.read"}, "Observation", Readable, "granted by user/Observation.read"},
		{"v1 wildcard type", []string{"user/*.read"}, "Binary", Readable, "user/*.read"},
		{"v1 wildcard permission", []string{"system/*.*"}, "Encounter", Readable, "system/*.*"},
		{"v1 patient context", []string{"patient/Observation.read"}, "Observation", Readable, "for the patient in context"},
		{"v1 write only", []string{"user/Observation.write"}, "Observation", NotReadable, "needs user/Observation.read"},
		{"other type", []string{"user/Patient.read"}, "Observation", NotReadable, "needs user/Observation.read"},
		{"exact type preferred to wildcard", []string{"user/*.read", "user/Observation.read"}, "Observation", Readable, "granted by user/Observation.read"},
		{"v2 rs", []string{"patient/Observation.rs"}, "Observation", Readable, "patient/Observation.rs"},
		{"v2 cruds", []string{"user/*.cruds"}, "Condition", Readable, "user/*.cruds"},
		{"v2 read only", []string{"user/Observation.r"}, "Observation", PartlyReadable, "read by id only"},
		{"v2 search only", []string{"user/Observation.s"}, "Observation", PartlyReadable, "search only"},
		{"v2 r and s from two scopes", []string{"user/Observation.r", "patient/Observation.s"}, "Observation", Readable, "(read) and patient/Observation.s (search)"},
		{"v2 narrowed by a query", []string{"patient/Observation.rs?category=vital-signs"}, "Observation", PartlyReadable,
			"only Observation resources matching category=vital-signs"},
		{"v2 two narrowed scopes", []string{"patient/Observation.rs?category=vital-signs", "patient/Observation.rs?category=laboratory"},
			"Observation", PartlyReadable, "category=vital-signs or category=laboratory"},
		{"v2 unnarrowed beats narrowed", []string{"patient/Observation.rs?category=vital-signs", "user/Observation.rs"}, "Observation", Readable, "user/Observation.rs"},
		{"v2 write letters", []string{"user/Observation.cud"}, "Observation", NotReadable, "needs user/Observation.rs"},
		{"CCRI-only forms mean nothing to SMART", []string{"user/DocumentReference", "user/MedicationPrescription.read"}, "DocumentReference", NotReadable, "needs"},
		{"SMART has no open types", nil, "Organization", NotReadable, "needs user/Organization.read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := CheckAccess(PolicySMART, tt.scopes, []string{tt.typ})[0]
			if a.Readability != tt.want || !strings.Contains(a.Reason, tt.reason) || a.Policy != PolicySMART {
				t.Errorf("%s; want %s with %q", a, tt.want, tt.reason)
			}
		})
	}
}

func TestParseScope(t *testing.T) {
	tests := []struct {
		raw                 string
		ok                  bool
		c, r, u, d, s, v2   bool
		context, typ, query string
	}{
		{raw: "user/Patient.read", ok: true, r: true, s: true, context: "user", typ: "Patient"},
		{raw: "system/*.write", ok: true, c: true, u: true, d: true, context: "system", typ: "*"},
		{raw: "patient/*.*", ok: true, c: true, r: true, u: true, d: true, s: true, context: "patient", typ: "*"},
		{raw: "patient/Observation.rs?category=vital-signs", ok: true, r: true, s: true, v2: true, context: "patient", typ: "Observation", query: "category=vital-signs"},
		{raw: "user/Observation.cruds", ok: true, c: true, r: true, u: true, d: true, s: true, v2: true, context: "user", typ: "Observation"},
		{raw: "user/Observation.sr"},
		{raw: "user/Observation.rr"},
		{raw: "user/Observation.x"},
		{raw: "user/Observation."},
		{raw: "user/Observation"},
		{raw: "user/observation.read"},
		{raw: "user/Observation.read?code=x"},
		{raw: "doctor/Observation.read"},
		{raw: "openid"},
		{raw: "launch/patient"},
		{raw: "user/Obs-ervation.read"},
	}
	for _, tt := range tests {
		sc, ok := ParseScope(tt.raw)
		if ok != tt.ok {
			t.Errorf("ParseScope(%q) ok = %v, want %v", tt.raw, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if sc.Create != tt.c || sc.Read != tt.r || sc.Update != tt.u || sc.Delete != tt.d || sc.Search != tt.s || sc.V2 != tt.v2 ||
			sc.Context != tt.context || sc.Type != tt.typ || sc.Query != tt.query {
			t.Errorf("ParseScope(%q) = %+v", tt.raw, sc)
		}
		if sc.String() != tt.raw {
			t.Errorf("String() = %q, want %q", sc.String(), tt.raw)
		}
	}
}

func TestWithServerAnswer(t *testing.T) {
	outcome := []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden",
		"diagnostics":"Insufficient Access Rights to access Observation."}]}`)
	tests := []struct {
		name        string
		scopes      []string
		status      int
		body        []byte
		want        Readability
		wantFinding Finding
		reason      string
	}{
		{"readable and served", []string{"user/Observation.read"}, 200, nil, Readable, NoFinding, "granted by"},
		{"readable but denied", []string{"user/Observation.read"}, 403, outcome, NotReadable, DeniedByServer,
			"denied by server: Insufficient Access Rights to access Observation."},
		{"unreadable and denied", nil, 403, outcome, NotReadable, NoFinding, "needs user/Observation.read"},
		{"unreadable but served", nil, 200, nil, Readable, AllowedByServer, "allowed by server"},
		{"a 401 says nothing about scopes", []string{"user/Observation.read"}, 401, nil, Readable, NoFinding, "granted by"},
		{"denied without an OperationOutcome", []string{"user/Observation.read"}, 403, []byte("<html>Forbidden</html>"), NotReadable, DeniedByServer, "HTTP 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := CheckAccess(PolicySMART, tt.scopes, []string{"Observation"})[0].WithServerAnswer(tt.status, tt.body)
			if a.Readability != tt.want || a.Finding != tt.wantFinding || !strings.Contains(a.Reason, tt.reason) || a.ServerStatus != tt.status {
				t.Errorf("%s (finding %q)", a, a.Finding)
			}
		})
	}
}

func TestResolvePolicy(t *testing.T) {
	ccri := &Discovery{LooksLikeCCRI: true, CCRIEvidence: `software.name "CCRI"`}
	tests := []struct {
		setting Policy
		d       *Discovery
		want    Policy
	}{
		{PolicyAuto, ccri, PolicyCCRI},
		{"", ccri, PolicyCCRI},
		{PolicyAuto, &Discovery{}, PolicySMART},
		{PolicyAuto, nil, PolicySMART},
		{PolicySMART, ccri, PolicySMART},
		{PolicyCCRI, nil, PolicyCCRI},
	}
	for _, tt := range tests {
		if got, why := ResolvePolicy(tt.setting, tt.d); got != tt.want || why == "" {
			t.Errorf("ResolvePolicy(%q) = %q (%q), want %q", tt.setting, got, why, tt.want)
		}
	}
}
