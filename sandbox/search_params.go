package sandbox

import (
	"math"
	"strings"
)

// paramKind is the FHIR search parameter type.
type paramKind int

const (
	kindString paramKind = iota
	kindToken
	kindDate
	kindReference
)

func (k paramKind) String() string {
	return [...]string{"string", "token", "date", "reference"}[k]
}

// searchParam is one supported search parameter of a resource type.
type searchParam struct {
	name string
	kind paramKind
	doc  string

	strs         func(r *record, buf []string) []string
	tokens       func(r *record, buf []coding) []coding
	ignoreSpaces bool // token values compare without spaces (NHS numbers, phone numbers)
	foldCase     bool // token values compare case-insensitively (email)
	date         func(r *record) (span, bool)
	ref          func(d *dataset, r *record) *record
	target       string // reference target type
}

func strParam(name, doc string, f func(r *record, b []string) []string) *searchParam {
	return &searchParam{name: name, kind: kindString, doc: doc, strs: f}
}

func tokenParam(name, doc string, f func(r *record, b []coding) []coding) *searchParam {
	return &searchParam{name: name, kind: kindToken, doc: doc, tokens: f}
}

func identifierParam(doc string, f func(r *record, b []coding) []coding) *searchParam {
	p := tokenParam("identifier", doc, f)
	p.ignoreSpaces = true
	return p
}

func dateParam(name, doc string, f func(r *record) (span, bool)) *searchParam {
	return &searchParam{name: name, kind: kindDate, doc: doc, date: f}
}

func refParam(name, doc, target string, f func(d *dataset, r *record) *record) *searchParam {
	return &searchParam{name: name, kind: kindReference, doc: doc, ref: f, target: target}
}

func owningPatient(d *dataset, r *record) *record {
	if r.patient < 0 || int(r.patient) >= len(d.patients) {
		return nil
	}
	return d.patients[r.patient]
}

func patientParam(name string) *searchParam {
	return refParam(name, "The patient the record is about (Patient/[id] or [id])", typePatient, owningPatient)
}

func localIdent(typ string, f func(r *record) string) *searchParam {
	system := sysLocalBase + strings.ToLower(typ)
	return identifierParam("A local business identifier ("+system+"|[value])", func(r *record, b []coding) []coding {
		return append(b, coding{system: system, code: f(r)})
	})
}

func code(b []coding, system, c string) []coding {
	return append(b, coding{system: system, code: c})
}

func patientOf(r *record) *patientData             { return r.data.(*patientData) }
func orgOf(r *record) *organizationData            { return r.data.(*organizationData) }
func pracOf(r *record) *practitionerData           { return r.data.(*practitionerData) }
func locOf(r *record) *locationData                { return r.data.(*locationData) }
func encOf(r *record) *encounterData               { return r.data.(*encounterData) }
func condOf(r *record) *conditionData              { return r.data.(*conditionData) }
func procOf(r *record) *procedureData              { return r.data.(*procedureData) }
func obsOf(r *record) *observationData             { return r.data.(*observationData) }
func allergyOf(r *record) *allergyData             { return r.data.(*allergyData) }
func medReqOf(r *record) *medicationRequestData    { return r.data.(*medicationRequestData) }
func medStmtOf(r *record) *medicationStatementData { return r.data.(*medicationStatementData) }
func immOf(r *record) *immunizationData            { return r.data.(*immunizationData) }
func docOf(r *record) *documentData                { return r.data.(*documentData) }

// searchParams lists the supported search parameters of each type (besides _id), as the CCRI supported them.
var searchParams = map[string][]*searchParam{
	typePatient: {
		identifierParam("A patient identifier, e.g. https://fhir.nhs.uk/Id/nhs-number|9990000018 (spaces ignored)", func(r *record, b []coding) []coding {
			p := patientOf(r)
			return append(b, coding{system: sysNHSNumber, code: p.nhs}, coding{system: sysPASNumber, code: p.pas})
		}),
		strParam("family", "Family name (case-insensitive prefix)", func(r *record, b []string) []string { return append(b, patientOf(r).family) }),
		strParam("given", "Given name (case-insensitive prefix)", func(r *record, b []string) []string { return append(b, patientOf(r).given...) }),
		strParam("name", "Any part of the name (case-insensitive prefix)", func(r *record, b []string) []string {
			p := patientOf(r)
			return append(append(b, p.family, p.prefix), p.given...)
		}),
		dateParam("birthdate", "Date of birth (prefixes eq, ne, gt, lt, ge, le, sa, eb)", func(r *record) (span, bool) {
			return patientOf(r).birth.span(), true
		}),
		tokenParam("gender", "Administrative gender: male | female | other | unknown", func(r *record, b []coding) []coding {
			return code(b, "http://hl7.org/fhir/administrative-gender", patientOf(r).gender)
		}),
		strParam("address-postalcode", "Postcode (prefix, spaces ignored)", func(r *record, b []string) []string { return append(b, patientOf(r).postcode) }),
		{name: "email", kind: kindToken, doc: "Email address (exact, case-insensitive)", foldCase: true, tokens: func(r *record, b []coding) []coding {
			return code(b, "email", patientOf(r).email)
		}},
		{name: "phone", kind: kindToken, doc: "Telephone number (exact, spaces ignored)", ignoreSpaces: true, tokens: func(r *record, b []coding) []coding {
			p := patientOf(r)
			return append(b, coding{system: "phone", code: p.phone}, coding{system: "phone", code: p.mobile})
		}},
	},
	typeObservation: {
		patientParam("patient"),
		patientParam("subject"),
		tokenParam("code", "Observation code, SNOMED CT or LOINC (system|code; comma = OR)", func(r *record, b []coding) []coding { return append(b, obsOf(r).code...) }),
		tokenParam("category", "Category: vital-signs | social-history", func(r *record, b []coding) []coding { return append(b, obsOf(r).category) }),
		dateParam("date", "Effective date/time (prefixes)", func(r *record) (span, bool) { return obsOf(r).effective.span(), true }),
		localIdent(typeObservation, func(r *record) string { return obsOf(r).ident }),
	},
	typeEncounter: {
		patientParam("patient"),
		dateParam("date", "A date within the encounter's period (prefixes)", func(r *record) (span, bool) { return encOf(r).period(), true }),
		tokenParam("type", "Encounter type (SNOMED CT)", func(r *record, b []coding) []coding { return append(b, encOf(r).typ) }),
		tokenParam("status", "planned | arrived | in-progress | finished | cancelled", func(r *record, b []coding) []coding {
			return code(b, "http://hl7.org/fhir/encounter-status", encOf(r).status)
		}),
		localIdent(typeEncounter, func(r *record) string { return encOf(r).ident }),
	},
	typeCondition: {
		patientParam("patient"),
		tokenParam("category", "problem-list-item | encounter-diagnosis", func(r *record, b []coding) []coding { return append(b, condOf(r).category) }),
		tokenParam("clinical-status", "active | recurrence | inactive | remission | resolved", func(r *record, b []coding) []coding {
			return code(b, "http://hl7.org/fhir/condition-clinical", condOf(r).clinical)
		}),
		dateParam("asserted-date", "Date the condition was recorded (prefixes)", func(r *record) (span, bool) { return condOf(r).asserted.span(), true }),
		localIdent(typeCondition, func(r *record) string { return condOf(r).ident }),
	},
	typeProcedure: {
		patientParam("patient"),
		patientParam("subject"),
		dateParam("date", "Date the procedure was performed (prefixes)", func(r *record) (span, bool) { return procOf(r).performed.span(), true }),
		localIdent(typeProcedure, func(r *record) string { return procOf(r).ident }),
	},
	typeAllergyIntolerance: {
		patientParam("patient"),
		dateParam("date", "Date the allergy was recorded (prefixes)", func(r *record) (span, bool) { return allergyOf(r).asserted.span(), true }),
		tokenParam("clinical-status", "active | inactive | resolved", func(r *record, b []coding) []coding {
			return code(b, "http://hl7.org/fhir/allergy-clinical-status", allergyOf(r).clinical)
		}),
		tokenParam("verification-status", "unconfirmed | confirmed | refuted | entered-in-error", func(r *record, b []coding) []coding {
			return code(b, "http://hl7.org/fhir/allergy-verification-status", allergyOf(r).verification)
		}),
		localIdent(typeAllergyIntolerance, func(r *record) string { return allergyOf(r).ident }),
	},
	typeMedicationRequest: {
		patientParam("patient"),
		tokenParam("code", "Medication code (dm+d)", func(r *record, b []coding) []coding { return append(b, medReqOf(r).med.code) }),
		dateParam("authoredon", "Date the prescription was written (prefixes)", func(r *record) (span, bool) { return medReqOf(r).authored.span(), true }),
		tokenParam("status", "active | on-hold | cancelled | completed | stopped", func(r *record, b []coding) []coding {
			return code(b, "http://hl7.org/fhir/medication-request-status", medReqOf(r).status)
		}),
		localIdent(typeMedicationRequest, func(r *record) string { return medReqOf(r).ident }),
	},
	typeMedicationStatement: {
		patientParam("patient"),
		dateParam("effective", "A date within the period the medication was taken (prefixes)", func(r *record) (span, bool) {
			m := medStmtOf(r)
			if m.end.isZero() {
				return span{m.start.t, math.MaxInt64}, true
			}
			return span{m.start.t, m.end.span().hi}, true
		}),
		tokenParam("status", "active | completed | entered-in-error | intended | stopped | on-hold", func(r *record, b []coding) []coding {
			return code(b, "http://hl7.org/fhir/medication-statement-status", medStmtOf(r).status)
		}),
		localIdent(typeMedicationStatement, func(r *record) string { return medStmtOf(r).ident }),
	},
	typeImmunization: {
		patientParam("patient"),
		dateParam("date", "Vaccination date (prefixes)", func(r *record) (span, bool) { return immOf(r).date.span(), true }),
		tokenParam("status", "completed | entered-in-error", func(r *record, b []coding) []coding {
			return code(b, "http://hl7.org/fhir/medication-admin-status", "completed")
		}),
		tokenParam("notgiven", "true if the vaccination was not given", func(r *record, b []coding) []coding {
			if immOf(r).notGiven {
				return code(b, "", "true")
			}
			return code(b, "", "false")
		}),
		localIdent(typeImmunization, func(r *record) string { return immOf(r).ident }),
	},
	typeDocumentReference: {
		patientParam("patient"),
		tokenParam("type", "Document type (SNOMED CT)", func(r *record, b []coding) []coding { return append(b, docOf(r).typ) }),
		dateParam("period", "Time of the service documented (prefixes)", func(r *record) (span, bool) { return docOf(r).period, true }),
		localIdent(typeDocumentReference, func(r *record) string { return docOf(r).ident }),
	},
	typeOrganization: {
		identifierParam("ODS code, e.g. https://fhir.nhs.uk/Id/ods-organization-code|RXA", func(r *record, b []coding) []coding {
			return append(b, coding{system: sysODSOrg, code: orgOf(r).ods})
		}),
		strParam("name", "Organisation name (case-insensitive prefix of any word sequence)", func(r *record, b []string) []string { return append(b, orgOf(r).name) }),
		strParam("address-postalcode", "Postcode (prefix, spaces ignored)", func(r *record, b []string) []string { return append(b, orgOf(r).postcode) }),
	},
	typePractitioner: {
		identifierParam("SDS user id, e.g. https://fhir.nhs.uk/Id/sds-user-id|[value]", func(r *record, b []coding) []coding {
			return append(b, coding{system: sysSDSUser, code: pracOf(r).sds})
		}),
		strParam("name", "Any part of the name (case-insensitive prefix)", func(r *record, b []string) []string {
			p := pracOf(r)
			return append(append(b, p.family, p.prefix), p.given...)
		}),
		strParam("address-postalcode", "Postcode of the practitioner's organisation (prefix)", func(r *record, b []string) []string {
			return append(b, orgOf(pracOf(r).org).postcode)
		}),
	},
	typeLocation: {
		identifierParam("ODS site code, e.g. https://fhir.nhs.uk/Id/ods-site-code|RXA01", func(r *record, b []coding) []coding {
			return append(b, coding{system: sysODSSite, code: locOf(r).ods})
		}),
		strParam("name", "Location name (case-insensitive prefix)", func(r *record, b []string) []string { return append(b, locOf(r).name) }),
		strParam("address-postalcode", "Postcode (prefix, spaces ignored)", func(r *record, b []string) []string {
			return append(b, orgOf(locOf(r).org).postcode)
		}),
	},
	typeBinary: {},
}

// includeDef is one supported _include or _revinclude.
type includeDef struct {
	spec    string
	targets []string // types it can bring in
	follow  func(d *dataset, r *record) []*record
}

func one(r *record) []*record {
	if r == nil {
		return nil
	}
	return []*record{r}
}

// includes lists the supported _include values per searched type.
var includes = func() map[string][]includeDef {
	m := map[string][]includeDef{
		typePatient: {
			{"Patient:general-practitioner", []string{typePractitioner, typeOrganization}, func(_ *dataset, r *record) []*record {
				p := patientOf(r)
				return []*record{p.gp, p.practice}
			}},
			{"Patient:organization", []string{typeOrganization}, func(_ *dataset, r *record) []*record { return one(patientOf(r).practice) }},
		},
		typeEncounter: {
			{"Encounter:participant", []string{typePractitioner}, func(_ *dataset, r *record) []*record { return one(encOf(r).prac) }},
			{"Encounter:service-provider", []string{typeOrganization}, func(_ *dataset, r *record) []*record { return one(encOf(r).org) }},
		},
	}
	for _, t := range clinicalTypes {
		m[t] = append(m[t], includeDef{t + ":patient", []string{typePatient}, func(d *dataset, r *record) []*record {
			return one(owningPatient(d, r))
		}})
	}
	return m
}()

// revIncludes lists the supported _revinclude values per searched type.
var revIncludes = func() map[string][]includeDef {
	var defs []includeDef
	for _, t := range clinicalTypes {
		defs = append(defs, includeDef{t + ":patient", []string{t}, func(d *dataset, r *record) []*record {
			return d.forPatient(t, r.patient)
		}})
	}
	return map[string][]includeDef{typePatient: defs}
}()
