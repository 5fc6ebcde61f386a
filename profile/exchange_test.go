package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestExportImportRoundTrip(t *testing.T) {
	src := openStore(t)
	a := validProfile("workshop A")
	a.Notes = "Bring your laptop."
	b := validProfile("workshop B")
	b.Grant = GrantAuthorizationCode
	b.RedirectPort = 8765
	for _, p := range []Profile{a, b} {
		if err := src.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	// Notes on a built-in are not exported: built-ins are not exported.
	bi, _ := src.Get(DefaultProfileName)
	bi.Notes = "personal"
	if err := src.Update(bi.Name, bi); err != nil {
		t.Fatal(err)
	}

	data, err := src.Export()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil || string(doc["ccexplorer_profiles"]) != "1" {
		t.Fatalf("export header: %s, %v", doc["ccexplorer_profiles"], err)
	}
	if bytes.Contains(data, []byte("builtin")) || bytes.Contains(data, []byte("personal")) {
		t.Errorf("export holds built-in profiles:\n%s", data)
	}

	dst := openStore(t)
	added, err := dst.Import(data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(added, []string{"workshop A", "workshop B"}) {
		t.Errorf("added = %q", added)
	}
	for _, want := range []Profile{a, b} {
		got, err := dst.Get(want.Name)
		if err != nil || !got.equal(want.normalized()) {
			t.Errorf("imported %+v, %v; want %+v", got, err, want)
		}
	}

	// Importing the same file again adds nothing.
	if added, err := dst.Import(data); err != nil || len(added) != 0 {
		t.Errorf("second import = %q, %v", added, err)
	}
	// A different profile under a taken name gets a numbered name.
	changed := validProfile("workshop A")
	changed.ClientID = "someone-else"
	other := openStore(t)
	if err := other.Add(changed); err != nil {
		t.Fatal(err)
	}
	data2, err := other.Export("workshop A")
	if err != nil {
		t.Fatal(err)
	}
	if added, err := dst.Import(data2); err != nil || !slices.Equal(added, []string{"workshop A (2)"}) {
		t.Errorf("clashing import = %q, %v", added, err)
	}
	// A profile named like a built-in is renamed too.
	named := openStore(t)
	clash := validProfile("x")
	if err := named.Add(clash); err != nil {
		t.Fatal(err)
	}
	data3, _ := named.Export()
	data3 = bytes.Replace(data3, []byte(`"name": "x"`), []byte(`"name": "`+DefaultProfileName+`"`), 1)
	if added, err := dst.Import(data3); err != nil || !slices.Equal(added, []string{DefaultProfileName + " (2)"}) {
		t.Errorf("import named like a built-in = %q, %v", added, err)
	}
}

func TestExportSelection(t *testing.T) {
	s := openStore(t)
	for _, n := range []string{"a", "b", "c"} {
		if err := s.Add(validProfile(n)); err != nil {
			t.Fatal(err)
		}
	}
	data, err := s.Export("c", "a", "c")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := decodeImport(data)
	if err != nil || !slices.Equal(names(ps), []string{"c", "a"}) {
		t.Errorf("Export(c, a, c) = %q, %v", names(ps), err)
	}
	if _, err := s.Export("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Export(missing) = %v", err)
	}
	if _, err := s.Export(DefaultProfileName); !errors.Is(err, ErrBuiltin) {
		t.Errorf("Export(built-in) = %v", err)
	}
	empty := openStore(t)
	data, err = empty.Export()
	if err != nil || !bytes.Contains(data, []byte(`"profiles": []`)) {
		t.Errorf("empty export = %s, %v", data, err)
	}
}

func TestImportRefusesBadData(t *testing.T) {
	good := `{"name": "ok", "base_url": "https://e.example/fhir", "grant": "none"}`
	tests := []struct {
		name, data string
		wantMsg    string
		problems   []int // indexes of refused profiles, for an *ImportError
	}{
		{"not JSON", "{", "not valid JSON", nil},
		{"empty", "", "not valid JSON", nil},
		{"not an export", `{"schema_version": 1, "profiles": []}`, "not a Care Connect Explorer profile export", nil},
		{"bad format", `{"ccexplorer_profiles": "x"}`, "positive whole number", nil},
		{"newer format", `{"ccexplorer_profiles": 2, "profiles": []}`, "newer version", nil},
		{"no profiles", `{"ccexplorer_profiles": 1, "profiles": []}`, "no profiles", nil},
		{"wrong shape", `{"ccexplorer_profiles": 1, "profiles": [1]}`, "cannot unmarshal", nil},
		{"one invalid", `{"ccexplorer_profiles": 1, "profiles": [` + good + `,
			{"name": "insecure", "base_url": "http://e.example/fhir", "grant": "none"}]}`, `#2 "insecure"`, []int{1}},
		{"built-in", `{"ccexplorer_profiles": 1, "profiles": [
			{"name": "sneaky", "builtin": true, "sandbox_client": "x", "grant": "none"}, ` + good + `]}`, "built-in profiles cannot be imported", []int{0}},
		{"several invalid", `{"ccexplorer_profiles": 1, "profiles": [{"name": ""}, ` + good + `, {"name": "b", "grant": "magic"}]}`, "base_url", []int{0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			if err := s.Add(validProfile("existing")); err != nil {
				t.Fatal(err)
			}
			before := readFile(t, s.Path())
			added, err := s.Import([]byte(tt.data))
			if !errors.Is(err, ErrInvalidImport) || added != nil {
				t.Fatalf("Import = %q, %v; want ErrInvalidImport", added, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			var ie *ImportError
			if tt.problems != nil {
				if !errors.As(err, &ie) {
					t.Fatalf("error %v is not an *ImportError", err)
				}
				var idx []int
				for _, p := range ie.Problems {
					idx = append(idx, p.Index)
				}
				if !slices.Equal(idx, tt.problems) {
					t.Errorf("problems at %v, want %v", idx, tt.problems)
				}
			}
			if !bytes.Equal(readFile(t, s.Path()), before) {
				t.Error("a refused import changed the profile file")
			}
			if len(s.List()) != len(Builtins())+1 {
				t.Error("a refused import changed the snapshot")
			}
		})
	}
}

func TestImportValidationErrorReachable(t *testing.T) {
	s := openStore(t)
	_, err := s.Import([]byte(`{"ccexplorer_profiles": 1, "profiles": [{"name": "x", "grant": "none"}]}`))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field(FieldBaseURL) == "" {
		t.Errorf("errors.As(*ValidationError) failed on %v", err)
	}
}
