package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ExportVersion is the version of the export format:
//
//	{"ccexplorer_profiles": 1, "profiles": [...]}
const ExportVersion = 1

// ErrInvalidImport is matched (errors.Is) by every error Import returns for
// data it refuses; nothing was changed.
var ErrInvalidImport = errors.New("cannot import these profiles")

// exportData is the export format. Profiles hold no secrets (the type has no
// secret fields) and no built-in profiles.
type exportData struct {
	Format   int       `json:"ccexplorer_profiles"`
	Profiles []Profile `json:"profiles"`
}

// ImportProblem is one profile of an import that cannot be imported.
type ImportProblem struct {
	// Index is the profile's position in the import, from 0.
	Index int
	// Name is the profile's name as given.
	Name string
	// Err says what is wrong; often a *ValidationError.
	Err error
}

// ImportError lists every profile of an import that cannot be imported.
// Nothing was imported.
type ImportError struct {
	// Problems has one entry per refused profile.
	Problems []ImportProblem
}

// Error lists the problems.
func (e *ImportError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = fmt.Sprintf("#%d %q: %v", p.Index+1, p.Name, p.Err)
	}
	return fmt.Sprintf("%v, nothing was imported: %s", ErrInvalidImport, strings.Join(parts, "; "))
}

// Unwrap returns the problems' errors, so errors.As finds a
// *ValidationError.
func (e *ImportError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p.Err
	}
	return errs
}

// Is reports whether target is ErrInvalidImport.
func (e *ImportError) Is(target error) bool { return target == ErrInvalidImport }

// Export returns the named profiles (none named: every profile that is not
// built-in) as indented JSON for sharing, for example a workshop set-up. The
// export never holds secrets; the CA file path and notes are included as
// they are. Built-in profiles cannot be exported (every copy of the app has
// them).
func (s *Store) Export(names ...string) ([]byte, error) {
	s.mu.RLock()
	d := s.data.clone()
	s.mu.RUnlock()

	out := exportData{Format: ExportVersion, Profiles: []Profile{}}
	if len(names) == 0 {
		for _, p := range d.Profiles {
			if !p.Builtin {
				out.Profiles = append(out.Profiles, p)
			}
		}
	}
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		i := d.index(name)
		if i < 0 {
			return nil, fmt.Errorf("export: %w: %q", ErrNotFound, name)
		}
		if d.Profiles[i].Builtin {
			return nil, fmt.Errorf("export %q: %w (and every copy of the app has them)", name, ErrBuiltin)
		}
		out.Profiles = append(out.Profiles, d.Profiles[i])
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return append(b, '\n'), nil
}

// Import adds the profiles of an export (see Export) and returns the names
// they were saved under. Every profile is validated first; if any is
// invalid, or the data is not an export, Import returns an error matching
// ErrInvalidImport (an *ImportError lists each refused profile) and changes
// nothing.
//
// Name clashes: a profile identical to an existing one of the same name is
// skipped (importing the same file twice adds nothing); a different profile
// whose name is taken is saved as "<name> (2)", "<name> (3)", and so on.
// Fields that Profile does not have, such as a "client_secret" someone added
// by hand, are ignored and never written.
func (s *Store) Import(data []byte) (added []string, err error) {
	ps, err := decodeImport(data)
	if err != nil {
		return nil, err
	}
	err = s.mutate(func(_, cur *fileData) error {
		added = importInto(cur, ps)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// decodeImport parses and validates an export. The profiles it returns are
// normalized and valid.
func decodeImport(data []byte) ([]Profile, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%w: the data is larger than %d MiB", ErrInvalidImport, maxFileSize>>20)
	}
	var head struct {
		Format json.RawMessage `json:"ccexplorer_profiles"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: not valid JSON: %v", ErrInvalidImport, err)
	}
	var format int
	if len(head.Format) == 0 || string(head.Format) == "null" {
		return nil, fmt.Errorf("%w: not a Care Connect Explorer profile export (no \"ccexplorer_profiles\" field)", ErrInvalidImport)
	}
	if err := json.Unmarshal(head.Format, &format); err != nil || format < 1 {
		return nil, fmt.Errorf("%w: \"ccexplorer_profiles\" is %s, not a positive whole number", ErrInvalidImport, head.Format)
	}
	if format > ExportVersion {
		return nil, fmt.Errorf("%w: export format %d, this version of the app reads up to %d: %w",
			ErrInvalidImport, format, ExportVersion, ErrNewerVersion)
	}
	var d exportData
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidImport, err)
	}
	if len(d.Profiles) == 0 {
		return nil, fmt.Errorf("%w: the export holds no profiles", ErrInvalidImport)
	}
	var probs []ImportProblem
	ps := make([]Profile, len(d.Profiles))
	for i, p := range d.Profiles {
		p = p.normalized()
		ps[i] = p
		if p.Builtin {
			probs = append(probs, ImportProblem{Index: i, Name: p.Name,
				Err: errors.New("built-in profiles cannot be imported (every copy of the app has them)")})
			continue
		}
		if err := p.Validate(); err != nil {
			probs = append(probs, ImportProblem{Index: i, Name: p.Name, Err: err})
		}
	}
	if len(probs) > 0 {
		return nil, &ImportError{Problems: probs}
	}
	return ps, nil
}

// importInto adds valid, normalized profiles to d as Import documents and
// returns the names they were saved under.
func importInto(d *fileData, ps []Profile) []string {
	var added []string
	taken := d.names()
	// Where each name is, and where suffix searches stopped: an import of
	// many clashing profiles takes linear time, not quadratic.
	at := make(map[string]int, len(d.Profiles)+len(ps))
	for i := len(d.Profiles) - 1; i >= 0; i-- {
		at[d.Profiles[i].Name] = i // the first profile of a name, as d.index finds it
	}
	next := map[string]int{}
	for _, p := range ps {
		if i, ok := at[p.Name]; ok && d.Profiles[i].equal(p) {
			continue
		}
		if taken[p.Name] {
			p.Name = uniqueNameFrom(truncateName(p.Name, MaxNameLength-6), taken, next)
		}
		taken[p.Name] = true
		d.Profiles = append(d.Profiles, p.clone())
		if _, ok := at[p.Name]; !ok {
			at[p.Name] = len(d.Profiles) - 1
		}
		added = append(added, p.Name)
	}
	return added
}
