package auth

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Policy is a way of mapping scopes to the resource types a token can read.
type Policy string

// The access policies.
const (
	// PolicyAuto is PolicyCCRI for servers that look like the CCRI, else
	// PolicySMART; see ResolvePolicy.
	PolicyAuto Policy = "auto"
	// PolicySMART is SMART on FHIR v1 and v2 scopes.
	PolicySMART Policy = "smart"
	// PolicyCCRI is the CCRI security guide's scope table with the leniency
	// the CCRI's server really showed.
	PolicyCCRI Policy = "ccri"
)

// ResolvePolicy turns a profile's policy setting into PolicySMART or
// PolicyCCRI and says why. Auto (or "") picks PolicyCCRI when the server's
// CapabilityStatement names the CCRI.
func ResolvePolicy(setting Policy, d *Discovery) (Policy, string) {
	switch setting {
	case PolicySMART, PolicyCCRI:
		return setting, "chosen in the profile"
	}
	if d != nil && d.LooksLikeCCRI {
		return PolicyCCRI, "the server looks like the CCRI (" + d.CCRIEvidence + ")"
	}
	return PolicySMART, "the server does not look like the CCRI, so SMART scopes apply"
}

// Readability says whether a token can read a resource type.
type Readability int

// The answers, worst first.
const (
	NotReadable    Readability = iota // no granted scope allows reading it
	PartlyReadable                    // only some of it, or only read or only search
	Readable                          // a granted scope allows reading and searching it
)

// String returns "not readable", "partly readable" or "readable".
func (r Readability) String() string {
	switch r {
	case Readable:
		return "readable"
	case PartlyReadable:
		return "partly readable"
	}
	return "not readable"
}

// Finding marks where the server's answer contradicted the prediction from
// the scopes.
type Finding string

// The findings.
const (
	NoFinding       Finding = ""
	DeniedByServer  Finding = "denied by server"  // 403 for a type the scopes say is readable
	AllowedByServer Finding = "allowed by server" // 2xx for a type the scopes say is not readable
)

// Access is whether a token can read one resource type, and why.
type Access struct {
	Type string
	// Readability is the answer: the prediction from the scopes, or the
	// server's answer when WithServerAnswer contradicted it.
	Readability Readability
	// Predicted is what the scopes alone say.
	Predicted Readability
	// Reason is one line: the scope that allows it, or the one needed.
	Reason string
	// Scope is the granted scope that allows reading, or the scope that
	// would be needed; empty when no scope is involved.
	Scope  string
	Policy Policy

	Finding       Finding
	ServerStatus  int    // the HTTP status WithServerAnswer saw; 0 before
	ServerMessage string // the OperationOutcome's text, when there was one
}

// String describes the access on one line.
func (a Access) String() string {
	s := fmt.Sprintf("%s: %s — %s", a.Type, a.Readability, a.Reason)
	if a.Finding != NoFinding && !strings.HasPrefix(a.Reason, string(a.Finding)) {
		s += " [" + string(a.Finding) + "]"
	}
	return s
}

// Err returns nil when the type is readable or partly readable, and an error
// wrapping ErrInsufficientScope with the reason otherwise.
func (a Access) Err() error {
	if a.Readability != NotReadable {
		return nil
	}
	return fmt.Errorf("%w: %s: %s", ErrInsufficientScope, a.Type, a.Reason)
}

// CheckAccess says, for each resource type, whether the granted scopes let
// the token read it under policy (PolicyAuto counts as PolicySMART here:
// resolve it first with ResolvePolicy).
func CheckAccess(policy Policy, granted []string, types []string) []Access {
	out := make([]Access, len(types))
	for i, t := range types {
		var a Access
		if policy == PolicyCCRI {
			a = ccriAccess(granted, t)
		} else {
			policy = PolicySMART
			a = smartAccess(granted, t)
		}
		a.Type, a.Policy = t, policy
		a.Readability = a.Predicted
		out[i] = a
	}
	return out
}

// WithServerAnswer applies what the server actually answered for a read or
// search of a.Type: status and the response body. The server wins: a 403 for
// a type the scopes say is readable marks it DeniedByServer with the
// OperationOutcome's text, and a 2xx for a type predicted unreadable marks it
// AllowedByServer. Other statuses (401, 404, 5xx) say nothing about scopes
// and change nothing but ServerStatus and ServerMessage.
func (a Access) WithServerAnswer(status int, body []byte) Access {
	return a.WithServerMessage(status, OutcomeText(body))
}

// WithServerMessage is WithServerAnswer for a caller that has already
// extracted the OperationOutcome's text (message may be empty).
func (a Access) WithServerMessage(status int, message string) Access {
	a.ServerStatus = status
	a.ServerMessage = message
	switch {
	case status >= 200 && status <= 299:
		if a.Predicted == NotReadable {
			a.Readability, a.Finding = Readable, AllowedByServer
			a.Reason = "allowed by server, although the scopes do not grant it (" + a.Reason + ")"
		}
	case status == 403:
		if a.Predicted != NotReadable {
			a.Readability, a.Finding = NotReadable, DeniedByServer
			why := a.ServerMessage
			if why == "" {
				why = "HTTP 403"
			}
			a.Reason = "denied by server: " + why + " (the scopes predicted " + a.Predicted.String() + ": " + a.Reason + ")"
		}
	}
	return a
}

// OutcomeText extracts the human-readable text of an OperationOutcome
// (issue details.text or diagnostics), or "" when body is not one.
func OutcomeText(body []byte) string {
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Diagnostics string `json:"diagnostics"`
			Details     struct {
				Text string `json:"text"`
			} `json:"details"`
		} `json:"issue"`
	}
	if len(body) == 0 || json.Unmarshal(body, &oo) != nil || oo.ResourceType != "OperationOutcome" {
		return ""
	}
	var parts []string
	for _, is := range oo.Issue {
		t := firstNonEmpty(strings.TrimSpace(is.Details.Text), strings.TrimSpace(is.Diagnostics))
		if t != "" && !slices.Contains(parts, t) {
			parts = append(parts, t)
		}
	}
	return shorten(strings.Join(parts, "; "), 300)
}

// smartAccess applies SMART v1 (.read/.write/.*) and v2 (.cruds letters,
// optionally narrowed by a query) scopes. Reading a type fully needs both
// read (r) and search (s); a scope narrowed by a query, or one giving only
// one of the two, makes it partly readable.
func smartAccess(granted []string, typ string) Access {
	var (
		readBy, searchBy, fullBy string
		narrowed                 []Scope
		sawV2                    bool
	)
	rank := func(sc Scope) int { // exact type beats *, user/system beat patient
		r := 0
		if sc.Type == typ {
			r += 2
		}
		if sc.Context != "patient" {
			r++
		}
		return r
	}
	best := -1
	for _, raw := range granted {
		sc, ok := ParseScope(raw)
		if !ok {
			continue
		}
		sawV2 = sawV2 || sc.V2
		if (sc.Type != typ && sc.Type != "*") || (!sc.Read && !sc.Search) {
			continue
		}
		switch {
		case sc.Query != "":
			narrowed = append(narrowed, sc)
		case sc.Read && sc.Search:
			if r := rank(sc); r > best {
				best, fullBy = r, raw
			}
		case sc.Read:
			readBy = firstNonEmpty(readBy, raw)
		default:
			searchBy = firstNonEmpty(searchBy, raw)
		}
	}
	switch {
	case fullBy != "":
		return Access{Predicted: Readable, Scope: fullBy, Reason: "granted by " + fullBy + smartContextNote(fullBy)}
	case readBy != "" && searchBy != "":
		return Access{Predicted: Readable, Scope: readBy + " " + searchBy,
			Reason: "granted by " + readBy + " (read) and " + searchBy + " (search)"}
	case len(narrowed) > 0:
		var qs, raws []string
		for _, sc := range narrowed {
			qs = append(qs, sc.Query)
			raws = append(raws, sc.Raw)
		}
		return Access{Predicted: PartlyReadable, Scope: strings.Join(raws, " "),
			Reason: fmt.Sprintf("only %s resources matching %s (%s)", typ, strings.Join(qs, " or "), strings.Join(raws, ", "))}
	case readBy != "":
		return Access{Predicted: PartlyReadable, Scope: readBy,
			Reason: "read by id only (" + readBy + "); searching needs the s permission, e.g. user/" + typ + ".s"}
	case searchBy != "":
		return Access{Predicted: PartlyReadable, Scope: searchBy,
			Reason: "search only (" + searchBy + "); reading by id needs the r permission, e.g. user/" + typ + ".r"}
	}
	need := "user/" + typ + ".read"
	if sawV2 {
		need = "user/" + typ + ".rs"
	}
	return Access{Predicted: NotReadable, Scope: need,
		Reason: "no granted scope covers " + typ + "; needs " + need + " (or the patient/ or system/ form)"}
}

func smartContextNote(raw string) string {
	if strings.HasPrefix(raw, "patient/") {
		return " (for the patient in context)"
	}
	return ""
}

// ccriRow is one row of the CCRI security guide's scope table.
type ccriRow struct {
	needs   string   // the scope the guide names
	accepts []string // the scope type names the server accepts; the first is the guide's
	bare    bool     // the guide's scope has no .read suffix
	note    string   // why the row looks odd
}

// ccriTable is the CCRI security guide's table, plus three types its server
// also restricted (Medication, ReferralRequest, Bundle).
var ccriTable = map[string]ccriRow{
	"Patient":             {needs: "user/Patient.read", accepts: []string{"Patient"}},
	"Observation":         {needs: "user/Observation.read", accepts: []string{"Observation"}},
	"Encounter":           {needs: "user/Encounter.read", accepts: []string{"Encounter"}},
	"Condition":           {needs: "user/Condition.read", accepts: []string{"Condition"}},
	"Procedure":           {needs: "user/Observation.read", accepts: []string{"Observation"}, note: "the CCRI's table maps Procedure to Observation"},
	"AllergyIntolerance":  {needs: "user/AllergyIntolerance.read", accepts: []string{"AllergyIntolerance"}},
	"MedicationRequest":   {needs: "user/MedicationPrescription.read", accepts: []string{"MedicationPrescription", "MedicationOrder", "MedicationRequest"}, note: "the CCRI's table names MedicationPrescription for MedicationRequest"},
	"MedicationStatement": {needs: "user/MedicationStatement.read", accepts: []string{"MedicationStatement"}},
	"Immunization":        {needs: "user/Immunization.read", accepts: []string{"Immunization"}},
	"DocumentReference":   {needs: "user/DocumentReference", accepts: []string{"DocumentReference"}, bare: true},
	"Binary":              {needs: "user/Binary", accepts: []string{"Binary"}, bare: true},
	"Medication":          {needs: "user/Medication.read", accepts: []string{"Medication"}},
	"ReferralRequest":     {needs: "user/ReferralRequest.read", accepts: []string{"ReferralRequest"}},
	"Bundle":              {needs: "user/Bundle.read", accepts: []string{"Bundle"}},
}

// ccriOpen are the types the CCRI lets any valid token read.
var ccriOpen = []string{"Organization", "Practitioner", "Location"}

// CCRIScopeFor returns the scope the CCRI security guide names for reading
// typ, and false for types the guide leaves open to any valid token.
func CCRIScopeFor(typ string) (string, bool) {
	row, ok := ccriTable[typ]
	return row.needs, ok
}

// ccriAccess applies the CCRI's table with its server's leniency: any of the
// user/, patient/ and system/ prefixes, * for the type, .read or .* as the
// suffix, .read also where the guide has no suffix (DocumentReference,
// Binary), and MedicationOrder or MedicationRequest for
// MedicationPrescription.
func ccriAccess(granted []string, typ string) Access {
	if slices.Contains(ccriOpen, typ) {
		return Access{Predicted: Readable, Reason: "the CCRI lets any valid token read " + typ}
	}
	row, ok := ccriTable[typ]
	if !ok {
		return Access{Predicted: Readable, Reason: "the CCRI's scope table does not restrict " + typ + ", so any valid token reads it"}
	}
	bestBy, bestNotes := "", []string(nil)
	for _, raw := range granted {
		notes, ok := ccriMatch(raw, row)
		if ok && (bestBy == "" || len(notes) < len(bestNotes)) {
			bestBy, bestNotes = raw, notes
		}
	}
	if bestBy != "" {
		if row.note != "" && !strings.Contains(bestBy, "*") {
			bestNotes = append(bestNotes, row.note)
		}
		reason := "granted by " + bestBy
		if len(bestNotes) > 0 {
			reason += " (" + strings.Join(bestNotes, "; ") + ")"
		}
		return Access{Predicted: Readable, Scope: bestBy, Reason: reason}
	}
	reason := "needs " + row.needs
	if row.note != "" {
		reason += " (" + row.note + ")"
	}
	return Access{Predicted: NotReadable, Scope: row.needs, Reason: reason}
}

// ccriMatch says whether raw grants row on the CCRI, and which of the
// server's leniencies it relies on.
func ccriMatch(raw string, row ccriRow) (notes []string, ok bool) {
	prefix, rest, found := strings.Cut(raw, "/")
	if !found || strings.ContainsAny(rest, "?/") {
		return nil, false
	}
	switch prefix {
	case "user":
	case "patient", "system":
		notes = append(notes, "the CCRI ignores the "+prefix+"/ prefix")
	default:
		return nil, false
	}
	typ, suffix, dotted := strings.Cut(rest, ".")
	switch {
	case !dotted && !row.bare:
		return nil, false
	case dotted && suffix != "read" && suffix != "*":
		return nil, false
	case dotted && suffix == "*":
		notes = append(notes, "the CCRI honours the .* wildcard")
	case dotted && row.bare:
		notes = append(notes, "the CCRI also accepts the .read suffix here")
	}
	switch {
	case typ == "*":
		notes = append(notes, "the CCRI honours * wildcards")
	case typ == row.accepts[0]:
	case slices.Contains(row.accepts, typ):
		notes = append(notes, "the CCRI accepts "+typ+" in place of "+row.accepts[0])
	default:
		return nil, false
	}
	return notes, true
}
