package fhirclient

import (
	"encoding/json"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// depth returns how deeply JSON text nests (ignoring brackets in strings).
func depth(data []byte) int {
	d, most, inStr, esc := 0, 0, false, false
	for _, c := range data {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			d++
			most = max(most, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return most
}

// checkTree compares the lean tree with encoding/json on the same input.
func checkTree(t *testing.T, data []byte) {
	root, err := parseJSON(string(data))
	valid := json.Valid(data)
	if depth(data) > maxDepth {
		return
	}
	if (err == nil) != valid {
		t.Fatalf("parseJSON error %v, json.Valid %v, for %q", err, valid, data)
	}
	if err != nil {
		return
	}
	var want any
	if json.Unmarshal(data, &want) != nil {
		return // a number out of float64 range, which json.Valid accepts
	}
	if got := root.toAny(); !reflect.DeepEqual(got, want) {
		t.Fatalf("tree %#v, encoding/json %#v, for %q", got, want, data)
	}
}

var bundleSeeds = []string{
	`{"resourceType":"Bundle","type":"searchset","total":2,"link":[{"relation":"next","url":"http://h/fhir?_getpages=x&_getpagesoffset=2"}],"entry":[{"fullUrl":"http://h/fhir/Patient/1","resource":{"resourceType":"Patient","id":"1","name":[{"family":"A\u00e9","given":["B"]}]},"search":{"mode":"match"}},{"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"processing","diagnostics":"d"}]},"search":{"mode":"outcome"}}]}`,
	`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","category":{"coding":{"code":"x"}},"valueQuantity":{"value":1e3,"unit":"\ud83d\ude00"}}}]}`,
	`{"resourceType":"Bundle","entry":[{"resource":null},{"resource":"x"},{}],"link":{"relation":"self","url":"u"},"total":-1}`,
	`{"resourceType":"Bundle","entry":{"resource":{"resourceType":"Patient","identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9"}}}}`,
	`{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Binary","content":"aGk"}}`,
	`{"resourceType":"OperationOutcome","issue":[{"severity":"error","diagnostics":"no"}]}`,
	`[1, 2.5e-3, -0, true, false, null, "\"\\\/\b\f\n\r\t\u0041\ud800"]`,
	"\xef\xbb\xbf{}",
	`{"a":"\xff\xfe"}`,
	`{"a" : { "b" :[ ] , "c":{} }}  `,
	`{"resourceType":"Bundle"} x`,
}

// FuzzDecodeBundle checks that Bundle decoding never panics, agrees with
// encoding/json on what is JSON and what it means, and that every entry
// gets a row.
func FuzzDecodeBundle(f *testing.F) {
	for _, s := range bundleSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkTree(t, data)
		b, err := DecodeBundle(data)
		if err != nil {
			return
		}
		var env map[string]json.RawMessage // exact member names, unlike a struct
		if json.Unmarshal(data, &env) == nil {
			var list []json.RawMessage
			if json.Unmarshal(env["entry"], &list) == nil && len(list) != len(b.Entries) {
				t.Fatalf("%d entries, encoding/json sees %d", len(b.Entries), len(list))
			}
		}
		rows := 0
		for _, typ := range b.ResourceTypes() {
			tb := Rows(typ, b)
			rows += len(tb.Rows)
			for _, r := range tb.Rows {
				if len(r) != len(tb.Columns) {
					t.Fatalf("row %q for columns %q", r, tb.Columns)
				}
			}
			tb.Sort(0, true)
		}
		typed := 0
		for _, e := range b.Entries {
			if e.ResourceType != "" {
				typed++
				if !json.Valid(e.Resource) {
					t.Fatalf("entry JSON %q is not valid", e.Resource)
				}
			}
			_ = Attachments(e)
		}
		if rows != typed {
			t.Fatalf("%d rows for %d entries with a type", rows, typed)
		}
	})
}

var capabilitySeeds = []string{
	`{"resourceType":"CapabilityStatement","fhirVersion":"3.0.1","software":{"name":"CCRI","version":"3.7"},"rest":[{"mode":"server","security":{"cors":true,"service":[{"coding":{"system":"http://hl7.org/fhir/restful-security-service","code":"SMART-on-FHIR"}}],"extension":[{"url":"http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris","extension":[{"url":"authorize","valueUri":"https://a/authorize"},{"url":"token","valueUri":"https://a/token"}]}]},"resource":[{"type":"Patient","profile":{"reference":"https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1"},"interaction":[{"code":"read"},{"code":"search-type"}],"searchParam":[{"name":"identifier","type":"token","documentation":"NHS number"}],"searchInclude":["Patient:general-practitioner"],"searchRevInclude":["Observation:patient"]}]}]}`,
	`{"resourceType":"CapabilityStatement","fhirVersion":"4.0.1","rest":{"resource":{"type":"Patient"}}}`,
	`{"resourceType":"Conformance","fhirVersion":"1.0.2","rest":[]}`,
	`{"resourceType":"CapabilityStatement","fhirVersion":"5.0.0"}`,
	`{"resourceType":"Patient"}`,
	`{"resourceType":"CapabilityStatement","rest":[{"resource":[{"searchParam":{"name":1}}]}]`,
}

// FuzzDecodeCapabilities checks that capability decoding never panics and
// keeps only resources with a type.
func FuzzDecodeCapabilities(f *testing.F) {
	for _, s := range capabilitySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCapabilities(data)
		if err != nil {
			return
		}
		for _, r := range c.Resources {
			if r.Type == "" {
				t.Fatalf("a resource without a type: %+v", r)
			}
			for _, p := range r.SearchParams {
				if p.Name == "" {
					t.Fatalf("a search parameter without a name: %+v", p)
				}
			}
		}
		if c.Version != VersionUnknown && c.Version != STU3 && c.Version != R4 {
			t.Fatalf("version %q", c.Version)
		}
	})
}

// splitToken undoes Token.
func splitToken(s string) (system, code string, hasSystem bool) {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case s[i] == '|':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	parts = append(parts, cur.String())
	if len(parts) == 2 {
		return parts[0], parts[1], true
	}
	return "", parts[0], false
}

// FuzzEncodeQuery checks that search parameters survive encoding: a
// server decoding the query gets the names and values (repeats in order)
// that went in, tokens split back into system and code, and the query has
// no character that Tomcat or a form decoder would misread.
func FuzzEncodeQuery(f *testing.F) {
	f.Add("identifier", "https://fhir.nhs.uk/Id/nhs-number", "9990000018", "birthdate", "ge2000-01-01T00:00:00+01:00")
	f.Add("name:exact", "", "O'Brien, Mary", "_include", "Patient:general-practitioner")
	f.Add("code", "http://snomed.info/sct", "a|b,c$d\\e", "_count", "500")
	f.Add("subject:Patient.name", "x y", "&=#%+?", "date", "le2020")
	f.Fuzz(func(t *testing.T, name, system, code, name2, value2 string) {
		if name == "" || name2 == "" || name == name2 {
			return
		}
		params := url.Values{}
		params.Add(name, Token(system, code))
		params.Add(name, value2)
		params.Add(name2, value2)
		q := EncodeQuery(params)
		if strings.ContainsAny(q, "|+ #\\\"<>{}^`") {
			t.Fatalf("query %q has characters that must be escaped", q)
		}
		got, err := url.ParseQuery(q)
		if err != nil {
			t.Fatalf("ParseQuery(%q): %v", q, err)
		}
		if !reflect.DeepEqual(got, params) {
			t.Fatalf("round trip %q: got %q, want %q", q, got, params)
		}
		sys, c, has := splitToken(got[name][0])
		if c != code || (system != "" && (!has || sys != system)) {
			t.Fatalf("token %q split into %q|%q, want %q|%q", got[name][0], sys, c, system, code)
		}
		if !slices.Equal(got[name], params[name]) {
			t.Fatalf("repeated parameter order changed")
		}
	})
}
