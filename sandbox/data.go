package sandbox

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Resource type names served by the sandbox.
const (
	typePatient             = "Patient"
	typePractitioner        = "Practitioner"
	typeOrganization        = "Organization"
	typeLocation            = "Location"
	typeEncounter           = "Encounter"
	typeCondition           = "Condition"
	typeProcedure           = "Procedure"
	typeObservation         = "Observation"
	typeAllergyIntolerance  = "AllergyIntolerance"
	typeMedicationRequest   = "MedicationRequest"
	typeMedicationStatement = "MedicationStatement"
	typeImmunization        = "Immunization"
	typeDocumentReference   = "DocumentReference"
	typeBinary              = "Binary"
)

// resourceTypes lists every served type in CapabilityStatement order.
var resourceTypes = []string{
	typePatient, typePractitioner, typeOrganization, typeLocation, typeEncounter, typeCondition,
	typeProcedure, typeObservation, typeAllergyIntolerance, typeMedicationRequest,
	typeMedicationStatement, typeImmunization, typeDocumentReference, typeBinary,
}

// clinicalTypes are the types that belong to one patient (the `<Type>:patient` includes).
var clinicalTypes = []string{
	typeEncounter, typeCondition, typeProcedure, typeObservation, typeAllergyIntolerance,
	typeMedicationRequest, typeMedicationStatement, typeImmunization, typeDocumentReference,
}

// dataEpoch is "today" for the generated records, fixed so that the data never depends on the clock.
var dataEpoch = time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC).Unix()

const day = int64(24 * 60 * 60)

// coding is a compact FHIR Coding.
type coding struct{ system, code, display string }

// span is a half-open interval of Unix seconds [lo, hi).
type span struct{ lo, hi int64 }

// when is an instant with day or second precision.
type when struct {
	t   int64
	day bool
}

func dayOf(t int64) when { return when{t: t - t%day, day: true} }

func (w when) isZero() bool { return w.t == 0 && !w.day }

func (w when) span() span {
	if w.day {
		return span{w.t, w.t + day}
	}
	return span{w.t, w.t + 1}
}

// fhir renders the instant as a FHIR date or dateTime.
func (w when) fhir() string {
	t := time.Unix(w.t, 0).UTC()
	if w.day {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02T15:04:05+00:00")
}

// record is one resource: its identity, its owning patient and its compact model.
type record struct {
	typ     string
	id      string
	patient int32 // index into dataset.patients, -1 for shared resources
	data    any   // *patientData, *observationData, ...
	json    atomic.Pointer[[]byte]
}

func (r *record) ref() string { return r.typ + "/" + r.id }

// typeTable holds the records of one type in id order.
type typeTable struct {
	records []*record
	// patStart[i]..patStart[i+1] are the records of patient i (clinical types only).
	patStart []int32
}

// dataset is the complete, immutable synthetic data of one sandbox.
type dataset struct {
	tables   map[string]*typeTable
	patients []*record
}

func (d *dataset) table(typ string) *typeTable { return d.tables[typ] }

// lookup finds a record by type and id.
func (d *dataset) lookup(typ, id string) *record {
	t := d.tables[typ]
	if t == nil {
		return nil
	}
	n, err := strconv.Atoi(id)
	if err != nil || n < 1 || n > len(t.records) || strconv.Itoa(n) != id {
		return nil
	}
	return t.records[n-1]
}

// forPatient returns the records of a clinical type that belong to patient index p.
func (d *dataset) forPatient(typ string, p int32) []*record {
	t := d.tables[typ]
	if t == nil || t.patStart == nil || p < 0 || int(p) >= len(d.patients) {
		return nil
	}
	return t.records[t.patStart[p]:t.patStart[p+1]]
}

type patientData struct {
	nhs, pas                     string
	family, prefix               string
	given                        []string
	gender                       string
	birth                        when
	line, city, county, postcode string
	phone, mobile, email         string
	ethnic                       coding
	gp, practice                 *record
}

func (p *patientData) displayName() string { return strings.Join(p.given, " ") + " " + p.family }

type organizationData struct {
	ods, name, kind              string // kind: "prov" (trust) or "prac" (GP practice)
	line, city, county, postcode string
	phone                        string
}

type practitionerData struct {
	sds, family, prefix string
	given               []string
	gender              string
	org                 *record
	role                string
}

func (p *practitionerData) displayName() string {
	return p.prefix + " " + strings.Join(p.given, " ") + " " + p.family
}

type locationData struct {
	ods, name string
	org       *record
}

type encounterData struct {
	ident      string
	status     string
	class, typ coding
	start, end when
	prac, org  *record
	loc        *record
}

func (e *encounterData) period() span {
	if e.end.isZero() {
		return span{e.start.t, e.start.span().hi}
	}
	return span{e.start.t, e.end.span().hi}
}

type conditionData struct {
	ident                  string
	clinical, verification string
	code, category         coding
	asserted, onset        when
	enc, asserter          *record
}

type procedureData struct {
	ident     string
	status    string
	code      coding
	performed when
	enc, prac *record
	loc       *record
}

type obsKind int8

const (
	obsQuantity obsKind = iota
	obsBloodPressure
	obsCodeValue
)

type observationData struct {
	ident     string
	category  coding
	code      []coding
	profile   string
	effective when
	enc, prac *record
	kind      obsKind
	value     float64
	unit      unit
	systolic  float64
	diastolic float64
	valueCode coding
	precision int
}

type allergyData struct {
	ident                  string
	clinical, verification string
	category, criticality  string
	code, reaction         coding
	asserted, onset        when
	recorder               *record
}

type medicationRequestData struct {
	ident     string
	status    string
	med       medicine
	authored  when
	requester *record
	reason    *record
	quantity  int
}

type medicationStatementData struct {
	ident      string
	status     string
	med        medicine
	start, end when
	asserted   when
	basedOn    *record
}

type immunizationData struct {
	ident    string
	notGiven bool
	vaccine  coding
	date     when
	prac     *record
	lot      string
	reason   coding
}

type documentData struct {
	ident, master        string
	typ                  coding
	created              when
	period               span
	author, custodian    *record
	enc, binary          *record
	title, contentType   string
	practitionerAuthor   *record
	patientName, nhsText string
}

type binaryData struct {
	contentType string
	doc         *record
}

// generator builds a dataset deterministically from a seed.
type generator struct {
	rng       *rand.Rand
	d         *dataset
	practices []*record
	gps       [][]*record // GPs per practice
	trusts    []*record
	hospDocs  [][]*record // hospital doctors per trust
	locations [][]*record // sites per trust
	seq       map[string]int
}

// generate creates the shared organisations and n patients with their records.
func generate(seed int64, n int) *dataset {
	g := &generator{
		rng: rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15)),
		d:   &dataset{tables: make(map[string]*typeTable, len(resourceTypes))},
		seq: make(map[string]int),
	}
	for _, t := range resourceTypes {
		g.d.tables[t] = &typeTable{}
	}
	for _, t := range append([]string{typeBinary}, clinicalTypes...) {
		g.d.tables[t].patStart = make([]int32, 1, n+1)
	}
	g.organisations(n)
	g.d.tables[typePatient].records = make([]*record, 0, n)
	nhs := newNHSNumbers(g.rng)
	for i := 0; i < n; i++ {
		g.patient(int32(i), nhs.next())
		for _, t := range append([]string{typeBinary}, clinicalTypes...) {
			tt := g.d.tables[t]
			tt.patStart = append(tt.patStart, int32(len(tt.records)))
		}
	}
	g.d.patients = g.d.tables[typePatient].records
	return g.d
}

func (g *generator) add(typ string, patient int32, data any) *record {
	t := g.d.tables[typ]
	r := &record{typ: typ, id: strconv.Itoa(len(t.records) + 1), patient: patient, data: data}
	t.records = append(t.records, r)
	return r
}

func (g *generator) ident(typ string) string {
	g.seq[typ]++
	return strconv.Itoa(100000 + g.seq[typ])
}

func (g *generator) pick(n int) int { return g.rng.IntN(n) }

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

func (g *generator) between(lo, hi int64) int64 { return lo + g.rng.Int64N(hi-lo) }

// postcode returns a plausible postcode in town t, e.g. "LS6 2AB".
func (g *generator) postcode(t town) string {
	l := postcodeInwardLetters
	return fmt.Sprintf("%s%d %d%c%c", t.outward, t.districts[g.pick(len(t.districts))], 1+g.pick(9),
		l[g.pick(len(l))], l[g.pick(len(l))])
}

func (g *generator) person(gender string) (given []string, family string) {
	names := maleGiven
	if gender == "female" {
		names = femaleGiven
	}
	given = []string{names[g.pick(len(names))]}
	if g.chance(0.3) {
		if second := names[g.pick(len(names))]; second != given[0] {
			given = append(given, second)
		}
	}
	return given, familyNames[g.pick(len(familyNames))]
}

func (g *generator) sdsUserID() string {
	return fmt.Sprintf("%012d", 100000000000+g.rng.Int64N(899999999999))
}

func (g *generator) organisations(patients int) {
	nPractices := max(3, patients/40)
	for i := 0; i < nPractices; i++ {
		t := towns[i%len(towns)]
		name := practiceNames[i%len(practiceNames)] + " " + practiceKinds[(i/len(practiceNames))%len(practiceKinds)]
		if i >= len(practiceNames)*len(practiceKinds) {
			name += " " + strconv.Itoa(i)
		}
		org := g.add(typeOrganization, -1, &organizationData{
			ods:  fmt.Sprintf("B8%04d", 6000+i),
			name: name, kind: "prac",
			line: fmt.Sprintf("%d %s", 1+g.pick(200), streetNames[g.pick(len(streetNames))]),
			city: t.name, county: t.county, postcode: g.postcode(t),
			phone: fmt.Sprintf("%s%03d", t.phone, g.pick(1000)),
		})
		g.practices = append(g.practices, org)
		var gps []*record
		for j := 0; j < 2; j++ {
			gender := []string{"male", "female"}[g.pick(2)]
			given, family := g.person(gender)
			gps = append(gps, g.add(typePractitioner, -1, &practitionerData{
				sds: g.sdsUserID(), family: family, given: given, prefix: "Dr", gender: gender,
				org: org, role: "General practitioner",
			}))
		}
		g.gps = append(g.gps, gps)
	}
	for i, tr := range trusts {
		t := towns[i%len(towns)]
		org := g.add(typeOrganization, -1, &organizationData{
			ods: tr.code, name: tr.name, kind: "prov",
			line: fmt.Sprintf("%d %s", 1+g.pick(50), streetNames[g.pick(len(streetNames))]),
			city: t.name, county: t.county, postcode: g.postcode(t),
			phone: fmt.Sprintf("%s%03d", t.phone, g.pick(1000)),
		})
		g.trusts = append(g.trusts, org)
		var docs []*record
		for j := 0; j < 3; j++ {
			gender := []string{"male", "female"}[g.pick(2)]
			given, family := g.person(gender)
			docs = append(docs, g.add(typePractitioner, -1, &practitionerData{
				sds: g.sdsUserID(), family: family, given: given, prefix: "Dr", gender: gender,
				org: org, role: []string{"Consultant physician", "Consultant surgeon", "Emergency medicine doctor"}[j],
			}))
		}
		g.hospDocs = append(g.hospDocs, docs)
		g.locations = append(g.locations, []*record{
			g.add(typeLocation, -1, &locationData{ods: tr.code + "01", name: tr.site, org: org}),
			g.add(typeLocation, -1, &locationData{ods: tr.code + "02", name: tr.site + " Emergency Department", org: org}),
		})
	}
}

// nhsNumbers hands out unique NHS numbers from the 999 test range with valid check digits.
type nhsNumbers struct{ k, offset int }

func newNHSNumbers(rng *rand.Rand) *nhsNumbers { return &nhsNumbers{offset: rng.IntN(1000000)} }

func (n *nhsNumbers) next() string {
	for {
		// 104729 is prime, so k -> k*104729 mod 10^6 visits every 6-digit suffix once.
		base := fmt.Sprintf("999%06d", (n.k*104729+n.offset)%1000000)
		n.k++
		if c, ok := nhsCheckDigit(base); ok {
			return base + strconv.Itoa(c)
		}
	}
}

// nhsCheckDigit computes the modulus-11 check digit of a 9-digit NHS number stem.
func nhsCheckDigit(stem string) (int, bool) {
	if len(stem) != 9 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 9; i++ {
		c := stem[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		sum += int(c-'0') * (10 - i)
	}
	check := 11 - sum%11
	switch check {
	case 11:
		return 0, true
	case 10:
		return 0, false
	}
	return check, true
}

// validNHSNumber reports whether s is a 10-digit NHS number with a correct check digit.
func validNHSNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	c, ok := nhsCheckDigit(s[:9])
	return ok && int(s[9]-'0') == c
}

func weighted(g *generator, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	r := g.pick(total)
	for i, w := range weights {
		if r < w {
			return i
		}
		r -= w
	}
	return len(weights) - 1
}

func (g *generator) patient(idx int32, nhs string) {
	gender := "male"
	if g.chance(0.51) {
		gender = "female"
	}
	given, family := g.person(gender)
	birth := dayOf(g.between(dataEpoch-95*365*day, dataEpoch-2*365*day))
	age := (dataEpoch - birth.t) / (365 * day)
	prefix := "Mr"
	if gender == "female" {
		prefix = []string{"Mrs", "Ms", "Miss"}[g.pick(3)]
	}
	if age < 16 {
		prefix = ""
		if gender == "male" {
			prefix = "Master"
		}
	}
	pi := g.pick(len(g.practices))
	practice := g.practices[pi]
	pd := practice.data.(*organizationData)
	var t town
	for _, tw := range towns {
		if tw.name == pd.city {
			t = tw
		}
	}
	p := &patientData{
		nhs: nhs, pas: fmt.Sprintf("PAS%07d", 1000000+int(idx)), family: family, given: given, prefix: prefix,
		gender: gender, birth: birth,
		line: fmt.Sprintf("%d %s", 1+g.pick(250), streetNames[g.pick(len(streetNames))]),
		city: t.name, county: t.county, postcode: g.postcode(t),
		phone: fmt.Sprintf("%s%03d", t.phone, g.pick(1000)), mobile: fmt.Sprintf("07700 900%03d", g.pick(1000)),
		email:  strings.ToLower(strings.ReplaceAll(given[0]+"."+family, "'", "")) + strconv.Itoa(int(idx)+1) + "@example.com",
		ethnic: ethnicCategories[weighted(g, ethnicWeights)],
		gp:     g.gps[pi][g.pick(len(g.gps[pi]))], practice: practice,
	}
	g.add(typePatient, idx, p)
	g.clinical(idx, p, age)
}

// clinical generates the clinical record of one patient.
func (g *generator) clinical(idx int32, p *patientData, age int64) {
	trust := g.pick(len(g.trusts))
	earliest := max(p.birth.t+day, dataEpoch-10*365*day)
	// Encounters: at least two finished ones so vital signs exist on several dates.
	nEnc := 2 + g.pick(4)
	var encs []*record
	var gpVisits []*record
	for i := 0; i < nEnc; i++ {
		start := g.between(earliest, dataEpoch)
		start = start - start%day + 8*3600 + int64(g.pick(9*3600))
		e := &encounterData{ident: g.ident(typeEncounter), status: "finished", start: when{t: start}}
		switch r := g.rng.Float64(); {
		case r < 0.65 || i < 2:
			e.class = classAmbulatory
			e.typ = []coding{encGPConsultation, encFollowUp, encCheckUp}[g.pick(3)]
			e.prac, e.org = p.gp, p.practice
			e.end = when{t: start + int64(10+g.pick(20))*60}
		case r < 0.85:
			e.class = classEmergency
			e.typ = encEmergencyRoom
			e.prac, e.org, e.loc = g.hospDocs[trust][2], g.trusts[trust], g.locations[trust][1]
			e.end = when{t: start + int64(1+g.pick(6))*3600}
		default:
			e.class = classInpatient
			e.typ = encEmergencyAdmit
			e.prac, e.org, e.loc = g.hospDocs[trust][g.pick(2)], g.trusts[trust], g.locations[trust][0]
			e.end = when{t: start + int64(1+g.pick(7))*day}
		}
		rec := g.add(typeEncounter, idx, e)
		encs = append(encs, rec)
		if e.class == classAmbulatory {
			gpVisits = append(gpVisits, rec)
		}
	}
	if g.chance(0.15) {
		start := dataEpoch + int64(1+g.pick(60))*day + 9*3600
		encs = append(encs, g.add(typeEncounter, idx, &encounterData{
			ident: g.ident(typeEncounter), status: "planned", class: classAmbulatory, typ: encFollowUp,
			start: when{t: start}, prac: p.gp, org: p.practice,
		}))
	}

	// Vital signs at up to three GP visits, smoking status at the first.
	g.vitals(idx, p, gpVisits, age)

	// Conditions.
	nCond := 1 + g.pick(3)
	var conds []*record
	seen := map[string]bool{}
	for i := 0; i < nCond; i++ {
		code := conditionCodes[g.pick(len(conditionCodes))]
		if seen[code.code] {
			continue
		}
		seen[code.code] = true
		enc := encs[g.pick(len(encs))]
		ed := enc.data.(*encounterData)
		if ed.status != "finished" {
			enc = encs[0]
			ed = enc.data.(*encounterData)
		}
		c := &conditionData{
			ident: g.ident(typeCondition), code: code, verification: "confirmed",
			asserted: dayOf(ed.start.t), onset: dayOf(max(p.birth.t, ed.start.t-int64(g.pick(400))*day)),
			asserter: ed.prac,
		}
		if ed.class == classAmbulatory {
			c.category = catProblemList
		} else {
			c.category = catEncounterDx
			c.enc = enc
		}
		switch r := g.rng.Float64(); {
		case r < 0.7:
			c.clinical = "active"
		case r < 0.85:
			c.clinical = "resolved"
		default:
			c.clinical = "inactive"
		}
		conds = append(conds, g.add(typeCondition, idx, c))
	}

	// Procedures, mostly during hospital stays.
	for i, n := 0, g.pick(3); i < n; i++ {
		enc := encs[g.pick(len(encs))]
		ed := enc.data.(*encounterData)
		if ed.status != "finished" {
			continue
		}
		pr := &procedureData{ident: g.ident(typeProcedure), status: "completed",
			code: procedureCodes[g.pick(len(procedureCodes))], performed: when{t: ed.start.t + 3600}, enc: enc, prac: ed.prac, loc: ed.loc}
		g.add(typeProcedure, idx, pr)
	}

	// Allergies.
	nAll := 0
	if r := g.rng.Float64(); r < 0.1 {
		nAll = 2
	} else if r < 0.45 {
		nAll = 1
	}
	seenAll := map[int]bool{}
	for i := 0; i < nAll; i++ {
		k := g.pick(len(allergyCodes))
		if seenAll[k] {
			continue
		}
		seenAll[k] = true
		asserted := dayOf(g.between(earliest, dataEpoch))
		a := &allergyData{
			ident: g.ident(typeAllergyIntolerance), code: allergyCodes[k].code, category: allergyCodes[k].category,
			criticality: []string{"low", "high", "unable-to-assess"}[weighted(g, []int{6, 3, 1})],
			reaction:    reactionCodes[g.pick(len(reactionCodes))],
			asserted:    asserted, onset: dayOf(max(p.birth.t, asserted.t-int64(g.pick(3000))*day)),
			recorder: p.gp,
		}
		a.clinical = []string{"active", "inactive", "resolved"}[weighted(g, []int{8, 1, 1})]
		a.verification = []string{"confirmed", "unconfirmed"}[weighted(g, []int{8, 2})]
		g.add(typeAllergyIntolerance, idx, a)
	}

	// Medication: one request per treatable active condition, sometimes an acute course.
	lastVisit := gpVisits[len(gpVisits)-1].data.(*encounterData)
	var requests []*record
	for _, m := range medicines {
		var reason *record
		if m.treats != "" {
			for _, c := range conds {
				if cd := c.data.(*conditionData); cd.code.code == m.treats && cd.clinical == "active" {
					reason = c
				}
			}
			if reason == nil {
				continue
			}
		} else if !g.chance(0.3) {
			continue
		}
		status := "active"
		authored := dayOf(lastVisit.start.t)
		if m.treats == "" {
			status = "completed"
			authored = dayOf(g.between(earliest, dataEpoch))
		}
		requests = append(requests, g.add(typeMedicationRequest, idx, &medicationRequestData{
			ident: g.ident(typeMedicationRequest), status: status, med: m, authored: authored,
			requester: p.gp, reason: reason, quantity: []int{28, 56, 84}[g.pick(3)],
		}))
	}
	for _, rq := range requests {
		rd := rq.data.(*medicationRequestData)
		s := &medicationStatementData{ident: g.ident(typeMedicationStatement), med: rd.med, start: rd.authored,
			asserted: rd.authored, basedOn: rq, status: "active"}
		if rd.status == "completed" {
			s.status = "completed"
			s.end = dayOf(rd.authored.t + 7*day)
		}
		g.add(typeMedicationStatement, idx, s)
	}

	// Immunisations.
	seenVac := map[int]bool{}
	for i, n := 0, 1+g.pick(3); i < n; i++ {
		k := g.pick(len(vaccineCodes))
		if seenVac[k] {
			continue
		}
		seenVac[k] = true
		im := &immunizationData{ident: g.ident(typeImmunization), vaccine: vaccineCodes[k],
			date: when{t: g.between(earliest, dataEpoch)}, prac: p.gp,
			lot: fmt.Sprintf("%c%c%04d", 'A'+rune(g.pick(26)), 'A'+rune(g.pick(26)), g.pick(10000))}
		if g.chance(0.1) {
			im.notGiven = true
			im.reason = notGivenReasons[g.pick(len(notGivenReasons))]
			im.lot = ""
		}
		g.add(typeImmunization, idx, im)
	}

	// Documents with their Binary content.
	for i, n := 0, 1+g.pick(2); i < n; i++ {
		enc := encs[g.pick(len(encs))]
		ed := enc.data.(*encounterData)
		if ed.status != "finished" {
			enc, ed = encs[0], encs[0].data.(*encounterData)
		}
		typ := documentTypes[1]
		switch {
		case ed.class != classAmbulatory:
			typ = documentTypes[0]
		case g.chance(0.4):
			typ = documentTypes[2]
		}
		ct := "text/plain"
		if g.chance(0.5) {
			ct = "application/pdf"
		}
		orgName := ed.org.data.(*organizationData).name
		doc := &documentData{
			ident: g.ident(typeDocumentReference), master: fmt.Sprintf("urn:oid:2.16.840.1.113883.2.1.3.2.4.18.%d", 1000000+g.seq[typeDocumentReference]),
			typ: typ, created: when{t: ed.period().hi}, period: ed.period(), author: ed.org, custodian: ed.org,
			practitionerAuthor: ed.prac, enc: enc, contentType: ct,
			title:       typ.display + " - " + orgName,
			patientName: p.displayName(), nhsText: p.nhs,
		}
		docRec := g.add(typeDocumentReference, idx, doc)
		doc.binary = g.add(typeBinary, idx, &binaryData{contentType: ct, doc: docRec})
	}
}

func (g *generator) vitals(idx int32, p *patientData, visits []*record, age int64) {
	height := 1.50 + g.rng.Float64()*0.45
	if p.gender == "male" {
		height += 0.08
	}
	if age < 16 {
		height = 0.8 + float64(age)*0.06
	}
	bmi := 19 + g.rng.Float64()*14
	weight := bmi * height * height
	sys := 105 + g.rng.Float64()*45
	dia := 65 + g.rng.Float64()*25
	hr := 55 + g.rng.Float64()*35
	if len(visits) > 3 {
		visits = visits[len(visits)-3:]
	}
	for i, v := range visits {
		ed := v.data.(*encounterData)
		t := when{t: ed.start.t + 300}
		w := weight * (0.96 + g.rng.Float64()*0.08)
		obs := []*observationData{
			{category: obsCatVital, code: obsBP, profile: "CareConnect-BloodPressure-1", kind: obsBloodPressure,
				systolic: float64(int(sys + g.rng.Float64()*12 - 6)), diastolic: float64(int(dia + g.rng.Float64()*8 - 4))},
			{category: obsCatVital, code: obsHeartRate, profile: "CareConnect-HeartRate-1", value: float64(int(hr + g.rng.Float64()*10 - 5)), unit: unitPerMin},
			{category: obsCatVital, code: obsBodyWeight, profile: "CareConnect-BodyWeight-1", value: w, unit: unitKg, precision: 1},
			{category: obsCatVital, code: obsBMI, profile: "CareConnect-BodyMassIndex-1", value: w / (height * height), unit: unitKgPerM2, precision: 1},
		}
		if i == 0 {
			obs = append(obs, &observationData{category: obsCatSocial, code: obsSmoking, kind: obsCodeValue,
				valueCode: smokingValues[weighted(g, []int{55, 25, 20})]})
		}
		for _, o := range obs {
			o.ident = g.ident(typeObservation)
			o.effective = t
			o.enc, o.prac = v, ed.prac
			g.add(typeObservation, idx, o)
		}
	}
}
