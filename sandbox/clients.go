package sandbox

import (
	"context"
	"crypto/subtle"
	"slices"
	"sort"

	"github.com/ory/fosite"
)

// Client identifiers of the demo clients.
const (
	ClientMedicationAccess = "medication-access"
	ClientPatientAccess    = "patient-access"
	ClientClinicalAccess   = "clinical-access"
	ClientLimitedAccess    = "limited-access"
	ClientDesktop          = "ccexplorer-desktop"
	ClientLegacyPassword   = "legacy-password"
)

// baseUserScopes can be granted to any signed-in user when requested.
var baseUserScopes = []string{"openid", "profile", "offline_access"}

// demoUser is a sandbox user that can sign in on the login page or with the password grant.
type demoUser struct{ info UserInfo }

func (u *demoUser) checkPassword(p string) bool {
	return subtle.ConstantTimeCompare([]byte(u.info.Password), []byte(p)) == 1
}

// mayHave reports whether the user may be granted scope: one of the user's own scopes, a base
// scope, or a read scope that one of the user's scopes covers (user/*.read covers user/Observation.read).
func (u *demoUser) mayHave(scope string) bool {
	if slices.Contains(baseUserScopes, scope) || slices.Contains(u.info.Scopes, scope) {
		return true
	}
	ctx, res, perm, hasPerm, ok := splitScope(scope)
	if !ok || !hasPerm {
		return false
	}
	for _, have := range u.info.Scopes {
		hctx, hres, hperm, hasHPerm, ok := splitScope(have)
		if !ok || !hasHPerm || hctx != ctx || (hres != "*" && hres != res) {
			continue
		}
		if hperm == "*" || hperm == perm || (hperm == "read" && (perm == "r" || perm == "s" || perm == "rs")) {
			return true
		}
	}
	return false
}

// defaultScopes is what a user grant gets when the request names no scope: the user's own scopes
// that the client may have, and "profile".
func (u *demoUser) defaultScopes(clientScopes []string) []string {
	var out []string
	for _, sc := range append([]string{"profile"}, u.info.Scopes...) {
		if slices.Contains(clientScopes, sc) {
			out = append(out, sc)
		}
	}
	return out
}

func readScopes(prefix string, types ...string) []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = prefix + "/" + t + ".read"
	}
	return out
}

// demoUsers returns the sandbox's users.
func demoUsers() []UserInfo {
	return []UserInfo{
		{Username: "gp", Password: "gp-password", Scopes: []string{"user/*.read"},
			Description: "GP: may read every resource type"},
		{Username: "receptionist", Password: "receptionist-password", Scopes: []string{"user/Patient.read"},
			Description: "Receptionist: demographics only"},
		{Username: "pharmacist", Password: "pharmacist-password",
			Scopes: append(readScopes("user", typePatient, typeMedicationRequest, typeMedicationStatement, typeAllergyIntolerance),
				"user/MedicationPrescription.read"),
			Description: "Pharmacist: patients, medication requests and statements, allergies"},
		{Username: "nurse", Password: "nurse-password",
			Scopes:      readScopes("patient", typePatient, typeObservation, typeImmunization, typeAllergyIntolerance),
			Description: "Practice nurse: patients, observations, immunisations and allergies (patient/ scopes)"},
	}
}

// demoClients returns the sandbox's OAuth2 clients with their demo secrets.
func demoClients() []ClientInfo {
	cc := []string{"client_credentials"}
	clinical := []string{"profile"}
	for _, t := range []string{typeMedicationStatement, typeImmunization, typePatient, typeCondition,
		typeMedicationRequest, typeEncounter, typeObservation} {
		clinical = append(clinical, "user/"+t+".read", "patient/"+t+".read")
	}
	var userScopes []string
	for _, u := range demoUsers() {
		for _, s := range u.Scopes {
			if !slices.Contains(userScopes, s) {
				userScopes = append(userScopes, s)
			}
		}
	}
	// Every read scope some user's wildcard covers may be requested explicitly.
	for _, prefix := range []string{"user", "patient"} {
		names := append(slices.Clone(resourceTypes), "*", "MedicationPrescription", "MedicationOrder")
		for _, t := range names {
			if s := prefix + "/" + t + ".read"; !slices.Contains(userScopes, s) {
				userScopes = append(userScopes, s)
			}
		}
	}
	sort.Strings(userScopes)
	desktop := append(slices.Clone(baseUserScopes), userScopes...)
	legacy := append([]string{"profile", "offline_access"}, userScopes...)
	return []ClientInfo{
		{ClientID: ClientMedicationAccess, ClientSecret: "medication-access-secret", GrantTypes: cc,
			Scopes:      []string{"user/Patient.read", "user/Bundle.read", "user/*.read"},
			Description: "CCRI demo client: reads everything (user/*.read)"},
		{ClientID: ClientPatientAccess, ClientSecret: "patient-access-secret", GrantTypes: cc,
			Scopes:      []string{"profile", "patient/Patient.read", "user/Patient.read"},
			Description: "CCRI demo client: Patient only"},
		{ClientID: ClientClinicalAccess, ClientSecret: "clinical-access-secret", GrantTypes: cc,
			Scopes:      clinical,
			Description: "CCRI demo client: Patient and the main clinical types"},
		{ClientID: ClientLimitedAccess, ClientSecret: "limited-access-secret", GrantTypes: cc,
			Scopes:      []string{"profile"},
			Description: "CCRI demo client: no resource scopes (every clinical read is 403)"},
		{ClientID: ClientDesktop, Public: true, GrantTypes: []string{"authorization_code", "refresh_token"},
			Scopes:       desktop,
			RedirectURIs: []string{"http://127.0.0.1/callback", "http://[::1]/callback", "http://127.0.0.1/", "http://[::1]/"},
			Description:  "Public desktop client: authorization code + PKCE S256 + refresh; loopback redirect on any port"},
		{ClientID: ClientLegacyPassword, ClientSecret: "legacy-password-secret", GrantTypes: []string{"password", "refresh_token"},
			Scopes:      legacy,
			Description: "Legacy client: resource owner password grant (demo users), refresh with offline_access"},
	}
}

// fositeClient converts a ClientInfo into fosite's client, hashing the demo secret.
func fositeClient(c ClientInfo, audience string) *fosite.DefaultClient {
	fc := &fosite.DefaultClient{
		ID:            c.ClientID,
		RedirectURIs:  c.RedirectURIs,
		GrantTypes:    c.GrantTypes,
		ResponseTypes: []string{"code"},
		Scopes:        c.Scopes,
		Audience:      []string{audience},
		Public:        c.Public,
	}
	if !c.Public {
		h, _ := secretHasher{}.Hash(context.Background(), []byte(c.ClientSecret))
		fc.Secret = h
	}
	return fc
}
