package profile

import (
	"testing"
)

// FuzzDecodeFile feeds arbitrary bytes to the profile file loader. It must
// not panic; whatever it accepts must hold every built-in profile, unique
// names and a default that exists, and must survive a write and a re-read
// unchanged.
func FuzzDecodeFile(f *testing.F) {
	f.Add([]byte(`{"schema_version": 1, "default": "a", "profiles": [{"name": "a", "base_url": "https://e.example/fhir", "grant": "none"}]}`))
	f.Add([]byte(`{"schema_version": 1, "profiles": [{"name": "a"}, {"name": "a"}, {"name": ""}, {"name": "Built-in sandbox", "builtin": true, "notes": "n"}]}`))
	f.Add([]byte(`{"schema_version": 2}`))
	f.Add([]byte(`{"schema_version": 1, "profiles": null}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeFile(b)
		if err != nil {
			return
		}
		checkData(t, d)
		enc, err := encodeFile(d)
		if err != nil {
			t.Fatalf("encodeFile: %v", err)
		}
		d2, err := decodeFile(enc)
		if err != nil {
			t.Fatalf("re-read of written file: %v\n%s", err, enc)
		}
		if len(d2.Profiles) != len(d.Profiles) || d2.Default != d.Default {
			t.Fatalf("write and re-read changed the data:\n%+v\n%+v", d, d2)
		}
		for i := range d.Profiles {
			if !d.Profiles[i].equal(d2.Profiles[i]) {
				t.Fatalf("profile %d changed:\n%+v\n%+v", i, d.Profiles[i], d2.Profiles[i])
			}
		}
	})
}

// FuzzImport feeds arbitrary bytes to the import parser and merges what it
// accepts into fresh data. It must not panic; accepted profiles must be
// valid and land under unique names.
func FuzzImport(f *testing.F) {
	f.Add([]byte(`{"ccexplorer_profiles": 1, "profiles": [{"name": "a", "base_url": "https://e.example/fhir", "grant": "none"}]}`))
	f.Add([]byte(`{"ccexplorer_profiles": 1, "profiles": [{"name": "Built-in sandbox", "base_url": "https://e.example/fhir", "grant": "none"}, {"name": "Built-in sandbox", "base_url": "https://f.example/fhir", "grant": "none"}]}`))
	f.Add([]byte(`{"ccexplorer_profiles": 1, "profiles": [{"name": "x", "builtin": true}]}`))
	f.Add([]byte(`{"ccexplorer_profiles": 2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := decodeImport(b)
		if err != nil {
			return
		}
		for _, p := range ps {
			if err := p.Validate(); err != nil {
				t.Fatalf("accepted an invalid profile: %v", err)
			}
		}
		d := freshData()
		added := importInto(&d, ps)
		if len(added) > len(ps) {
			t.Fatalf("added %d of %d", len(added), len(ps))
		}
		checkData(t, d)
		for _, name := range added {
			i := d.index(name)
			if i < 0 || d.Profiles[i].Builtin {
				t.Fatalf("added %q missing or built-in", name)
			}
		}
	})
}

// checkData checks the invariants of loaded profile data.
func checkData(t *testing.T, d fileData) {
	t.Helper()
	seen := map[string]bool{}
	for _, p := range d.Profiles {
		if seen[p.Name] {
			t.Fatalf("duplicate name %q", p.Name)
		}
		if p.Name == "" {
			t.Fatal("empty name")
		}
		seen[p.Name] = true
	}
	for i, b := range Builtins() {
		got := d.Profiles[i]
		got.Notes = b.Notes
		if !got.equal(b) {
			t.Fatalf("built-in %d is %+v, want %+v", i, got, b)
		}
	}
	if !seen[d.Default] {
		t.Fatalf("default %q names no profile", d.Default)
	}
}
