package fhirclient

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// patientJSON is a Care Connect Patient shaped like the CCRI's example.
func patientJSON(i int) string {
	return fmt.Sprintf(`{"resourceType":"Patient","id":"%d","meta":{"versionId":"1","lastUpdated":"2018-03-09T15:30:09.143+00:00","profile":["https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1"]},
"extension":[{"url":"https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-EthnicCategory-1","valueCodeableConcept":{"coding":[{"system":"https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-EthnicCategory-1","code":"A","display":"British, Mixed British"}]}}],
"identifier":[{"system":"https://fhir.leedsth.nhs.uk/Id/pas-number","value":"LOCAL%d"},{"extension":[{"url":"https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1","valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1","code":"01","display":"Number present and verified"}]}}],"system":"https://fhir.nhs.uk/Id/nhs-number","value":"999%07d"}],
"active":true,"name":[{"use":"usual","family":"Schultz%d","given":["Opal","Jane"],"prefix":["Ms"]}],"telecom":[{"system":"phone","value":"0113 496 %04d","use":"home"}],"gender":"female","birthDate":"19%02d-08-06",
"address":[{"use":"home","line":["%d Leeds Road","Garforth"],"city":"Leeds","district":"West Yorkshire","postalCode":"LS25 %dAB"}],
"maritalStatus":{"coding":[{"system":"http://hl7.org/fhir/v3/MaritalStatus","code":"M","display":"Married"}]},
"generalPractitioner":[{"reference":"Organization/B8%04d","display":"Garforth Medical Practice"}],"managingOrganization":{"reference":"Organization/1","display":"Leeds Teaching Hospitals"}}`,
		i, i, i%10000000, i, i%10000, i%100, i%200, i%10, i%10000)
}

// observationJSON is a blood pressure Observation with components.
func observationJSON(i int) string {
	return fmt.Sprintf(`{"resourceType":"Observation","id":"bp-%d","meta":{"lastUpdated":"2018-03-09T15:30:09Z"},"status":"final",
"category":[{"coding":[{"system":"http://hl7.org/fhir/observation-category","code":"vital-signs","display":"Vital Signs"}]}],
"code":{"coding":[{"system":"http://snomed.info/sct","code":"75367002","display":"Blood pressure"}]},
"subject":{"reference":"Patient/%d"},"effectiveDateTime":"2017-%02d-03T13:30:00+00:00","performer":[{"reference":"Practitioner/1"}],
"component":[{"code":{"coding":[{"system":"http://snomed.info/sct","code":"72313002","display":"Systolic arterial pressure"}]},"valueQuantity":{"value":%d,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
{"code":{"coding":[{"system":"http://snomed.info/sct","code":"1091811000000102","display":"Diastolic arterial pressure"}]},"valueQuantity":{"value":%d,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`,
		i, i, 1+i%12, 100+i%60, 60+i%30)
}

// searchset builds a searchset Bundle of n resources.
func searchset(n int, res func(int) string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"resourceType":"Bundle","type":"searchset","total":%d,"link":[{"relation":"self","url":"http://h/fhir/X?_count=%d"}],"entry":[`, n, n)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"fullUrl":"http://h/fhir/X/%d","resource":%s,"search":{"mode":"match"}}`, i, res(i))
	}
	b.WriteString("]}")
	return []byte(b.String())
}

var benchSets = []struct {
	typ string
	res func(int) string
}{
	{"Patient", patientJSON},
	{"Observation", observationJSON},
}

// BenchmarkRowsVsEncodingJSON10k measures, in one run, the time to turn a
// 10,000-entry searchset into table rows (DecodeBundle + Rows) and the time
// encoding/json takes to decode the same bytes into map[string]any. It
// reports their ratio (the requirement: at most 2) and the bytes allocated
// per row.
func BenchmarkRowsVsEncodingJSON10k(b *testing.B) {
	const n = 10000
	for _, set := range benchSets {
		b.Run(set.typ, func(b *testing.B) {
			data := searchset(n, set.res)
			var tJSON, tRows time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				var m map[string]any
				if err := json.Unmarshal(data, &m); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				bd, err := DecodeBundle(data)
				if err != nil {
					b.Fatal(err)
				}
				if t := Rows(set.typ, bd); len(t.Rows) != n {
					b.Fatalf("%d rows", len(t.Rows))
				}
				tRows += time.Since(t1)
				tJSON += t1.Sub(t0)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			bd, _ := DecodeBundle(data)
			t := Rows(set.typ, bd)
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(t)
			b.ReportMetric(float64(tRows)/float64(tJSON), "ratio")
			b.ReportMetric(float64(tRows.Nanoseconds())/float64(b.N)/1e6, "rows-ms")
			b.ReportMetric(float64(tJSON.Nanoseconds())/float64(b.N)/1e6, "json-ms")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/row")
			b.ReportMetric(float64(len(data))/n, "json-B/entry")
		})
	}
}

// BenchmarkRows10k is the rows half of BenchmarkRowsVsEncodingJSON10k.
func BenchmarkRows10k(b *testing.B) {
	data := searchset(10000, patientJSON)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		bd, err := DecodeBundle(data)
		if err != nil {
			b.Fatal(err)
		}
		_ = Rows("Patient", bd)
	}
}

// BenchmarkEncodingJSON10k is the encoding/json half.
func BenchmarkEncodingJSON10k(b *testing.B) {
	data := searchset(10000, patientJSON)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidate10k shows what the typed parse that is kept off the
// rows path costs.
func BenchmarkValidate10k(b *testing.B) {
	data := searchset(10000, patientJSON)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		bd, err := DecodeBundle(data)
		if err != nil {
			b.Fatal(err)
		}
		if err := bd.Validate(b.Context(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
