package sandbox

import (
	"slices"
	"strings"
)

// Policy names accepted in Config.Policy.
const (
	PolicyCCRI  = "ccri"
	PolicySMART = "smart"
)

// access is the interaction a request performs on a resource type.
type access int

const (
	accessRead access = iota
	accessSearch
)

// openTypes are readable with any valid token, as in the CCRI.
var openTypes = map[string]bool{typeOrganization: true, typePractitioner: true, typeLocation: true}

// ccriScopeNames maps a resource type to the scope resource names that allow reading it under the
// CCRI security guide's table.
var ccriScopeNames = map[string][]string{
	typePatient:             {typePatient},
	typeObservation:         {typeObservation},
	typeEncounter:           {typeEncounter},
	typeCondition:           {typeCondition},
	typeAllergyIntolerance:  {typeAllergyIntolerance},
	typeMedicationStatement: {typeMedicationStatement},
	typeImmunization:        {typeImmunization},
	typeProcedure:           {typeObservation},
	typeMedicationRequest:   {"MedicationPrescription", "MedicationOrder", typeMedicationRequest},
	typeDocumentReference:   {typeDocumentReference},
	typeBinary:              {typeBinary},
}

// ccriBareScope lists the types whose CCRI scope has no ".read" suffix.
var ccriBareScope = map[string]bool{typeDocumentReference: true, typeBinary: true}

// scopePrefixes are the SMART contexts both policies honour.
var scopePrefixes = map[string]bool{"user": true, "patient": true, "system": true}

// mayAccess reports whether a token with scopes may perform a on resources of type typ.
func mayAccess(policy string, scopes []string, typ string, a access) bool {
	if openTypes[typ] {
		return true
	}
	for _, s := range scopes {
		var ok bool
		if policy == PolicySMART {
			ok = smartScopeAllows(s, typ, a)
		} else {
			ok = ccriScopeAllows(s, typ)
		}
		if ok {
			return true
		}
	}
	return false
}

// splitScope splits "user/Patient.read" into its context, resource and permission parts.
func splitScope(s string) (context, resource, perm string, hasPerm, ok bool) {
	context, rest, ok := strings.Cut(s, "/")
	if !ok || !scopePrefixes[context] || rest == "" {
		return "", "", "", false, false
	}
	resource, perm, hasPerm = strings.Cut(rest, ".")
	return context, resource, perm, hasPerm, resource != ""
}

func ccriScopeAllows(s, typ string) bool {
	_, res, perm, hasPerm, ok := splitScope(s)
	if !ok {
		return false
	}
	if res != "*" && !slices.Contains(ccriScopeNames[typ], res) {
		return false
	}
	if !hasPerm {
		return ccriBareScope[typ]
	}
	return perm == "read" || perm == "*"
}

func smartScopeAllows(s, typ string, a access) bool {
	if strings.ContainsAny(s, "?") {
		// SMART v2 finer-grained scopes (with a query) are not supported: they grant nothing.
		return false
	}
	_, res, perm, hasPerm, ok := splitScope(s)
	if !ok || !hasPerm || (res != "*" && res != typ) {
		return false
	}
	switch perm {
	case "read", "*":
		return true
	case "write":
		return false
	}
	if !validV2Permissions(perm) {
		return false
	}
	if a == accessSearch {
		return strings.Contains(perm, "s")
	}
	return strings.Contains(perm, "r")
}

// validV2Permissions reports whether p is a SMART v2 permission string: letters of "cruds" in that order, each at most once.
func validV2Permissions(p string) bool {
	if p == "" {
		return false
	}
	const order = "cruds"
	last := -1
	for i := 0; i < len(p); i++ {
		k := strings.IndexByte(order, p[i])
		if k <= last {
			return false
		}
		last = k
	}
	return true
}

// neededScopes lists scopes that would allow a on typ, the first being the one to name in WWW-Authenticate.
func neededScopes(policy, typ string, a access) []string {
	if policy == PolicySMART {
		if a == accessSearch {
			return []string{"user/" + typ + ".read", "user/" + typ + ".s"}
		}
		return []string{"user/" + typ + ".read", "user/" + typ + ".r"}
	}
	var out []string
	for _, n := range ccriScopeNames[typ] {
		if ccriBareScope[typ] {
			out = append(out, "user/"+n+".read", "user/"+n)
		} else {
			out = append(out, "user/"+n+".read")
		}
	}
	return out
}

// ResourceTypes returns the resource types the sandbox serves, in CapabilityStatement order.
func ResourceTypes() []string { return append([]string(nil), resourceTypes...) }

// MayRead reports whether a token with scopes may read (GET [type]/[id]) resources of
// resourceType under policy ("ccri" or "smart"; "" means "ccri"). It is the sandbox's own
// decision, for tests that compare it with the client side's.
func MayRead(policy string, scopes []string, resourceType string) bool {
	return knownType(resourceType) && mayAccess(policy, scopes, resourceType, accessRead)
}

// MaySearch is MayRead for searches (GET [type]?...); the two differ only for SMART v2 scopes
// such as ".r" and ".s".
func MaySearch(policy string, scopes []string, resourceType string) bool {
	return knownType(resourceType) && mayAccess(policy, scopes, resourceType, accessSearch)
}

func knownType(t string) bool { return slices.Contains(resourceTypes, t) }
