package sandbox

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
)

// obj is a FHIR JSON object under construction.
type obj = map[string]any

func (c coding) json() obj {
	o := obj{"system": c.system, "code": c.code}
	if c.display != "" {
		o["display"] = c.display
	}
	return o
}

func cc(cs ...coding) obj {
	list := make([]any, len(cs))
	for i, c := range cs {
		list[i] = c.json()
	}
	return obj{"coding": list}
}

func ccText(text string, cs ...coding) obj {
	o := cc(cs...)
	o["text"] = text
	return o
}

func meta(profiles ...string) obj {
	list := make([]any, len(profiles))
	for i, p := range profiles {
		list[i] = p
	}
	return obj{"profile": list}
}

func identifier(system, value string) obj { return obj{"system": system, "value": value} }

func localIdentifier(typ, value string) []any {
	return []any{identifier(sysLocalBase+strings.ToLower(typ), value)}
}

func decimal(v float64, precision int) json.Number {
	return json.Number(strconv.FormatFloat(v, 'f', precision, 64))
}

func quantity(v float64, precision int, u unit) obj {
	return obj{"value": decimal(v, precision), "unit": u.unit, "system": sysUCUM, "code": u.code}
}

func period(s span) obj {
	return obj{"start": when{t: s.lo}.fhir(), "end": when{t: s.hi - 1}.fhir()}
}

// reference renders a literal reference with a display for r.
func reference(r *record) obj {
	o := obj{"reference": r.ref()}
	switch d := r.data.(type) {
	case *patientData:
		o["display"] = d.displayName()
	case *practitionerData:
		o["display"] = d.displayName()
	case *organizationData:
		o["display"] = d.name
	case *locationData:
		o["display"] = d.name
	}
	return o
}

func address(line, city, county, postcode string) []any {
	return []any{obj{"use": "work", "line": []any{line}, "city": city, "district": county, "postalCode": postcode}}
}

// resource returns the FHIR JSON object of one record, before jsonformat normalisation.
func (d *dataset) resource(r *record) obj {
	o := obj{"resourceType": r.typ, "id": r.id}
	if r.typ != typeBinary {
		o["meta"] = meta(profileFor(r.typ))
	}
	var patient *record
	if r.patient >= 0 && int(r.patient) < len(d.patients) {
		patient = d.patients[r.patient]
	}
	switch v := r.data.(type) {
	case *patientData:
		nhs := identifier(sysNHSNumber, v.nhs)
		nhs["extension"] = []any{obj{"url": extNHSVerify, "valueCodeableConcept": cc(nhsVerified)}}
		o["extension"] = []any{obj{"url": extEthnic, "valueCodeableConcept": cc(v.ethnic)}}
		o["identifier"] = []any{nhs, identifier(sysPASNumber, v.pas)}
		o["active"] = true
		name := obj{"use": "official", "family": v.family, "given": v.given}
		if v.prefix != "" {
			name["prefix"] = []any{v.prefix}
		}
		o["name"] = []any{name}
		o["telecom"] = []any{
			obj{"system": "phone", "value": v.phone, "use": "home"},
			obj{"system": "phone", "value": v.mobile, "use": "mobile"},
			obj{"system": "email", "value": v.email, "use": "home"},
		}
		o["gender"] = v.gender
		o["birthDate"] = v.birth.fhir()
		addr := address(v.line, v.city, v.county, v.postcode)
		addr[0].(obj)["use"] = "home"
		o["address"] = addr
		o["generalPractitioner"] = []any{reference(v.gp), reference(v.practice)}
		o["managingOrganization"] = reference(v.practice)
	case *organizationData:
		o["identifier"] = []any{identifier(sysODSOrg, v.ods)}
		o["active"] = true
		if v.kind == "prov" {
			o["type"] = []any{cc(coding{sysOrgType, "prov", "Healthcare Provider"})}
		} else {
			o["type"] = []any{ccText("GP practice", coding{sysOrgType, "prov", "Healthcare Provider"})}
		}
		o["name"] = v.name
		o["telecom"] = []any{obj{"system": "phone", "value": v.phone, "use": "work"}}
		o["address"] = address(v.line, v.city, v.county, v.postcode)
	case *practitionerData:
		o["identifier"] = []any{identifier(sysSDSUser, v.sds)}
		o["active"] = true
		o["name"] = []any{obj{"use": "official", "family": v.family, "given": v.given, "prefix": []any{v.prefix}}}
		o["gender"] = v.gender
		od := v.org.data.(*organizationData)
		o["telecom"] = []any{obj{"system": "phone", "value": od.phone, "use": "work"}}
		o["address"] = address(od.line, od.city, od.county, od.postcode)
	case *locationData:
		od := v.org.data.(*organizationData)
		o["identifier"] = []any{identifier(sysODSSite, v.ods)}
		o["status"] = "active"
		o["name"] = v.name
		o["address"] = obj{"use": "work", "line": []any{od.line}, "city": od.city, "district": od.county, "postalCode": od.postcode}
		o["managingOrganization"] = reference(v.org)
	case *encounterData:
		o["identifier"] = localIdentifier(r.typ, v.ident)
		o["status"] = v.status
		o["class"] = v.class.json()
		o["type"] = []any{cc(v.typ)}
		o["subject"] = reference(patient)
		o["participant"] = []any{obj{
			"type":       []any{cc(coding{sysParticipant, "PPRF", "primary performer"})},
			"individual": reference(v.prac),
		}}
		if v.end.isZero() {
			o["period"] = obj{"start": v.start.fhir()}
		} else {
			o["period"] = obj{"start": v.start.fhir(), "end": v.end.fhir()}
		}
		if v.loc != nil {
			o["location"] = []any{obj{"location": reference(v.loc)}}
		}
		o["serviceProvider"] = reference(v.org)
	case *conditionData:
		o["identifier"] = localIdentifier(r.typ, v.ident)
		o["clinicalStatus"] = v.clinical
		o["verificationStatus"] = v.verification
		o["category"] = []any{cc(v.category)}
		o["code"] = cc(v.code)
		o["subject"] = reference(patient)
		if v.enc != nil {
			o["context"] = reference(v.enc)
		}
		o["onsetDateTime"] = v.onset.fhir()
		if v.clinical == "resolved" {
			o["abatementBoolean"] = true
		}
		o["assertedDate"] = v.asserted.fhir()
		o["asserter"] = reference(v.asserter)
	case *procedureData:
		o["identifier"] = localIdentifier(r.typ, v.ident)
		o["status"] = v.status
		o["code"] = cc(v.code)
		o["subject"] = reference(patient)
		o["context"] = reference(v.enc)
		o["performedDateTime"] = v.performed.fhir()
		o["performer"] = []any{obj{"actor": reference(v.prac)}}
		if v.loc != nil {
			o["location"] = reference(v.loc)
		}
	case *observationData:
		o["meta"] = meta(profileFor(r.typ))
		if v.profile != "" {
			o["meta"] = meta(profileFor(r.typ), profileBase+v.profile)
		}
		o["identifier"] = localIdentifier(r.typ, v.ident)
		o["status"] = "final"
		o["category"] = []any{cc(v.category)}
		o["code"] = cc(v.code...)
		o["subject"] = reference(patient)
		o["context"] = reference(v.enc)
		o["effectiveDateTime"] = v.effective.fhir()
		o["issued"] = when{t: v.effective.t + 60}.fhir()
		o["performer"] = []any{reference(v.prac)}
		switch v.kind {
		case obsQuantity:
			o["valueQuantity"] = quantity(v.value, v.precision, v.unit)
		case obsCodeValue:
			o["valueCodeableConcept"] = cc(v.valueCode)
		case obsBloodPressure:
			o["component"] = []any{
				obj{"code": cc(obsSystolic...), "valueQuantity": quantity(v.systolic, 0, unitMmHg)},
				obj{"code": cc(obsDiastolic...), "valueQuantity": quantity(v.diastolic, 0, unitMmHg)},
			}
		}
	case *allergyData:
		o["identifier"] = localIdentifier(r.typ, v.ident)
		o["clinicalStatus"] = v.clinical
		o["verificationStatus"] = v.verification
		o["type"] = "allergy"
		o["category"] = []any{v.category}
		o["criticality"] = v.criticality
		o["code"] = cc(v.code)
		o["patient"] = reference(patient)
		o["onsetDateTime"] = v.onset.fhir()
		o["assertedDate"] = v.asserted.fhir()
		o["recorder"] = reference(v.recorder)
		o["reaction"] = []any{obj{"manifestation": []any{cc(v.reaction)}}}
	case *medicationRequestData:
		o["identifier"] = localIdentifier(r.typ, v.ident)
		o["status"] = v.status
		o["intent"] = "order"
		o["medicationCodeableConcept"] = cc(v.med.code)
		o["subject"] = reference(patient)
		o["authoredOn"] = v.authored.fhir()
		o["requester"] = obj{"agent": reference(v.requester), "onBehalfOf": reference(d.patientData(r).practice)}
		if v.reason != nil {
			o["reasonReference"] = []any{obj{"reference": v.reason.ref()}}
		}
		o["dosageInstruction"] = []any{obj{"text": v.med.dosage}}
		o["dispenseRequest"] = obj{"quantity": obj{"value": v.quantity, "unit": v.med.form}}
	case *medicationStatementData:
		o["identifier"] = localIdentifier(r.typ, v.ident)
		o["basedOn"] = []any{obj{"reference": v.basedOn.ref()}}
		o["status"] = v.status
		o["medicationCodeableConcept"] = cc(v.med.code)
		if v.end.isZero() {
			o["effectivePeriod"] = obj{"start": v.start.fhir()}
		} else {
			o["effectivePeriod"] = obj{"start": v.start.fhir(), "end": v.end.fhir()}
		}
		o["dateAsserted"] = v.asserted.fhir()
		o["subject"] = reference(patient)
		o["taken"] = "y"
		o["dosage"] = []any{obj{"text": v.med.dosage}}
	case *immunizationData:
		o["extension"] = []any{obj{"url": extDateRecorded, "valueDateTime": v.date.fhir()}}
		o["identifier"] = localIdentifier(r.typ, v.ident)
		o["status"] = "completed"
		o["notGiven"] = v.notGiven
		o["vaccineCode"] = cc(v.vaccine)
		o["patient"] = reference(patient)
		o["date"] = v.date.fhir()
		o["primarySource"] = true
		o["practitioner"] = []any{obj{"role": cc(coding{"http://hl7.org/fhir/v2/0443", "AP", "Administering Provider"}), "actor": reference(v.prac)}}
		if v.notGiven {
			o["explanation"] = obj{"reasonNotGiven": []any{cc(v.reason)}}
		} else {
			o["lotNumber"] = v.lot
		}
	case *documentData:
		o["masterIdentifier"] = obj{"system": "urn:ietf:rfc:3986", "value": v.master}
		o["identifier"] = localIdentifier(r.typ, v.ident)
		o["status"] = "current"
		o["type"] = cc(v.typ)
		o["subject"] = reference(patient)
		o["created"] = v.created.fhir()
		o["indexed"] = when{t: v.created.t + 120}.fhir() + ""
		o["author"] = []any{reference(v.author), reference(v.practitionerAuthor)}
		o["custodian"] = reference(v.custodian)
		o["description"] = v.title
		o["content"] = []any{obj{"attachment": obj{
			"contentType": v.contentType, "url": v.binary.ref(), "title": v.title,
			"creation": v.created.fhir(),
		}}}
		o["context"] = obj{"encounter": reference(v.enc), "period": period(v.period)}
	case *binaryData:
		o["contentType"] = v.contentType
		o["securityContext"] = obj{"reference": v.doc.ref()}
		o["content"] = d.binaryContent(r)
	}
	return o
}

func (d *dataset) patientData(r *record) *patientData {
	if r.patient < 0 || int(r.patient) >= len(d.patients) {
		return nil
	}
	return d.patients[r.patient].data.(*patientData)
}

// fhirCodec converts JSON objects into validated STU3 protos and back into FHIR JSON.
type fhirCodec struct {
	um *jsonformat.Unmarshaller
	m  *jsonformat.Marshaller
}

var (
	codecOnce sync.Once
	codec     fhirCodec
	codecErr  error
)

// stu3 returns the process-wide jsonformat codec; both halves are safe for concurrent use.
// (Checked against google/fhir/go v0.7.4: Unmarshal only reads the Unmarshaller's fields
// and uses a frozen jsoniter API, an init-time regexp table and a mutex-guarded field-map
// cache; Marshal's one mutable field, the depths map, is nil except in the analytics
// marshallers, which the sandbox does not use.)
func stu3() (fhirCodec, error) {
	codecOnce.Do(func() {
		codec.um, codecErr = jsonformat.NewUnmarshaller("UTC", fhirversion.STU3)
		if codecErr != nil {
			codecErr = fmt.Errorf("stu3 unmarshaller: %w", codecErr)
			return
		}
		codec.m, codecErr = jsonformat.NewMarshaller(false, "", "", fhirversion.STU3)
		if codecErr != nil {
			codecErr = fmt.Errorf("stu3 marshaller: %w", codecErr)
		}
	})
	return codec, codecErr
}

// toFHIRJSON validates o as an STU3 resource with google/fhir and returns its jsonformat serialisation.
func toFHIRJSON(o obj) ([]byte, error) {
	raw, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encode %v: %w", o["resourceType"], err)
	}
	c, err := stu3()
	if err != nil {
		return nil, err
	}
	pb, err := c.um.Unmarshal(raw)
	if err != nil {
		return nil, fmt.Errorf("validate %v/%v: %w", o["resourceType"], o["id"], err)
	}
	out, err := c.m.Marshal(pb)
	if err != nil {
		return nil, fmt.Errorf("marshal %v/%v: %w", o["resourceType"], o["id"], err)
	}
	return out, nil
}

// maxCacheBytes bounds the per-resource JSON cache of one sandbox.
const maxCacheBytes = 256 << 20

// jsonCache counts the bytes held by records' cached JSON.
type jsonCache struct {
	bytes    atomic.Int64
	parallel atomic.Int64 // batches resourceJSONs serialised on several goroutines
	workers  int          // the most goroutines resourceJSONs uses; 0 means runtime.GOMAXPROCS(0)
}

// resourceJSON returns the jsonformat JSON of r, cached on the record while the cache has room.
func (d *dataset) resourceJSON(c *jsonCache, r *record) ([]byte, error) {
	if b := r.json.Load(); b != nil {
		return *b, nil
	}
	b, err := toFHIRJSON(d.resource(r))
	if err != nil {
		return nil, err
	}
	if c.bytes.Load() < maxCacheBytes && r.json.CompareAndSwap(nil, &b) {
		c.bytes.Add(int64(len(b)))
	}
	return b, nil
}

// resourceJSONs returns the jsonformat JSON of each record of recs, in order, exactly as
// resourceJSON on each in turn would. The records not cached yet are serialised on up to
// GOMAXPROCS goroutines (a cold page is almost all jsonformat work); a batch with at most one
// of them stays on the calling goroutine. On failure it returns the error of the first
// failing record in recs, and a panic is re-raised on the calling goroutine with the value
// of the first panicking record, if no record before it failed.
func (d *dataset) resourceJSONs(c *jsonCache, recs []*record) ([][]byte, error) {
	out := make([][]byte, len(recs))
	var todo []int // indexes into recs of the records not cached
	for i, r := range recs {
		if b := r.json.Load(); b != nil {
			out[i] = *b
		} else {
			todo = append(todo, i)
		}
	}
	workers := c.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(todo))
	if workers <= 1 {
		for _, i := range todo {
			b, err := d.resourceJSON(c, recs[i])
			if err != nil {
				return nil, err
			}
			out[i] = b
		}
		return out, nil
	}
	c.parallel.Add(1)
	err := inOrderInParallel(len(todo), workers, func(k int) error {
		b, err := d.resourceJSON(c, recs[todo[k]])
		if err != nil {
			return err
		}
		out[todo[k]] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// inOrderInParallel calls do(0) … do(n-1) on up to workers goroutines and returns what
// calling them in order, stopping at the first failure, would: nil, or the error of the
// lowest k whose call failed. If that call panicked instead, the panic is raised again, with
// its value, on the calling goroutine. Calls after the first failure may or may not be made.
func inOrderInParallel(n, workers int, do func(k int) error) error {
	type failure struct {
		err      error
		panicked bool
		value    any
	}
	var (
		next  atomic.Int64 // the next k to hand out
		first atomic.Int64 // the lowest k that failed so far, n if none
		fails = make([]failure, n)
		wg    sync.WaitGroup
	)
	first.Store(int64(n))
	fail := func(k int64, f failure) {
		fails[k] = f
		for {
			cur := first.Load()
			if k >= cur || first.CompareAndSwap(cur, k) {
				return
			}
		}
	}
	call := func(k int64) { // a panic counts as k's failure
		returned := false
		defer func() {
			if !returned {
				fail(k, failure{panicked: true, value: recover()})
			}
		}()
		err := do(int(k))
		returned = true
		if err != nil {
			fail(k, failure{err: err})
		}
	}
	for range min(workers, n) {
		wg.Go(func() {
			for {
				// k is handed out in increasing order, so every k below the first failure
				// is called and finishes before Wait returns; only those above it are skipped.
				k := next.Add(1) - 1
				if k >= int64(n) || k > first.Load() {
					return
				}
				call(k)
			}
		})
	}
	wg.Wait()
	if k := first.Load(); k < int64(n) {
		f := fails[k]
		if f.panicked {
			panic(f.value)
		}
		return f.err
	}
	return nil
}
