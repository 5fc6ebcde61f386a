package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// SchemaVersion is the version of the profile file this package reads and
// writes. A file with a higher version (written by a newer app) is refused
// and left untouched.
const SchemaVersion = 1

// maxFileSize bounds the profile file and import data; real files are a few
// kilobytes.
const maxFileSize = 8 << 20

// fileData is the profile file's content:
//
//	{"schema_version": 1, "default": "...", "profiles": [...]}
type fileData struct {
	SchemaVersion int       `json:"schema_version"`
	Default       string    `json:"default,omitempty"`
	Profiles      []Profile `json:"profiles"`
}

// errNewerVersion is wrapped by the error for a file from a newer app.
var errNewerVersion = errors.New("written by a newer version of Care Connect Explorer")

// freshData returns the content of a new profile file: the built-in
// profiles, with the first one as the default.
func freshData() fileData {
	return fileData{SchemaVersion: SchemaVersion, Default: DefaultProfileName, Profiles: Builtins()}
}

// decodeFile parses a profile file and repairs what can be repaired without
// losing data (see fixUp). It does not validate profiles: a hand-edited
// profile that is invalid is kept, and reported when the user opens it.
func decodeFile(b []byte) (fileData, error) {
	if len(b) > maxFileSize {
		return fileData{}, fmt.Errorf("file is larger than %d MiB", maxFileSize>>20)
	}
	if strings.TrimSpace(string(b)) == "" {
		return fileData{}, errors.New("file is empty")
	}
	// Look at the version first: a newer schema may not fit this one's shape.
	var head struct {
		SchemaVersion json.RawMessage `json:"schema_version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return fileData{}, fmt.Errorf("not valid JSON: %w", err)
	}
	var version int
	if len(head.SchemaVersion) == 0 || string(head.SchemaVersion) == "null" {
		return fileData{}, errors.New("no schema_version: not a Care Connect Explorer profile file")
	}
	if err := json.Unmarshal(head.SchemaVersion, &version); err != nil || version < 1 {
		return fileData{}, fmt.Errorf("schema_version %s is not a positive whole number", head.SchemaVersion)
	}
	if version > SchemaVersion {
		return fileData{}, fmt.Errorf("schema version %d, this version of the app reads up to %d (update the app): %w",
			version, SchemaVersion, errNewerVersion)
	}
	var d fileData
	if err := json.Unmarshal(b, &d); err != nil {
		return fileData{}, fmt.Errorf("not a valid profile file: %w", err)
	}
	d.fixUp()
	return d, nil
}

// encodeFile renders the profile file.
func encodeFile(d fileData) ([]byte, error) {
	d.SchemaVersion = SchemaVersion
	if d.Profiles == nil {
		d.Profiles = []Profile{}
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode profiles: %w", err)
	}
	return append(b, '\n'), nil
}

// fixUp makes the data consistent without dropping anything the user wrote:
// built-in profiles are re-imposed from this app's definition (keeping the
// user's notes) and re-added if missing; an entry marked built-in that this
// app does not know becomes an ordinary profile; a user profile whose name
// clashes with another profile (by hand-editing, or with a new built-in) is
// renamed; and a default that names no profile falls back to
// DefaultProfileName.
func (d *fileData) fixUp() {
	d.SchemaVersion = SchemaVersion
	builtins := Builtins()
	out := make([]Profile, 0, len(builtins)+len(d.Profiles))
	out = append(out, builtins...)
	taken := make(map[string]bool, cap(out))
	for _, b := range builtins {
		taken[b.Name] = true
	}
	seenBuiltin := map[string]bool{}
	var user []Profile
	for _, p := range d.Profiles {
		if p.Builtin {
			if i := indexOf(builtins, p.Name); i >= 0 && !seenBuiltin[p.Name] {
				seenBuiltin[p.Name] = true
				out[i].Notes = p.Notes
				continue
			}
			p.Builtin = false
		}
		user = append(user, p.clone())
	}
	next := map[string]int{}
	for _, p := range user {
		name := p.Name
		if strings.TrimSpace(name) == "" {
			name = "Unnamed profile"
		}
		if taken[name] {
			name = uniqueNameFrom(name, taken, next)
		}
		p.Name = name
		taken[name] = true
		out = append(out, p)
	}
	d.Profiles = out
	if !taken[d.Default] {
		d.Default = DefaultProfileName
	}
}

// uniqueName returns base, or base with the first free " (n)" suffix.
func uniqueName(base string, taken map[string]bool) string {
	return uniqueNameFrom(base, taken, nil)
}

// uniqueNameFrom is uniqueName remembering in next (when not nil), per base,
// where the search for a free suffix may start: naming many clashing
// profiles (a damaged file, a hostile import) then takes linear time, not
// quadratic. Names must only be added to taken meanwhile.
func uniqueNameFrom(base string, taken map[string]bool, next map[string]int) string {
	if !taken[base] {
		return base
	}
	for n := max(next[base], 2); ; n++ {
		name := fmt.Sprintf("%s (%d)", base, n)
		if !taken[name] {
			if next != nil {
				next[base] = n + 1
			}
			return name
		}
	}
}

// names returns the set of profile names.
func (d *fileData) names() map[string]bool {
	m := make(map[string]bool, len(d.Profiles))
	for _, p := range d.Profiles {
		m[p.Name] = true
	}
	return m
}

// index returns the position of the named profile, or -1.
func (d *fileData) index(name string) int { return indexOf(d.Profiles, name) }

// indexOf returns the position of the named profile in ps, or -1.
func indexOf(ps []Profile, name string) int {
	for i, p := range ps {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// clone returns a deep copy.
func (d fileData) clone() fileData {
	ps := make([]Profile, len(d.Profiles))
	for i, p := range d.Profiles {
		ps[i] = p.clone()
	}
	d.Profiles = ps
	return d
}
