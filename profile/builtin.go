package profile

// DefaultProfileName is the name of the built-in sandbox profile that is the
// default on first start and whenever the default profile is removed.
const DefaultProfileName = "Built-in sandbox"

// builtinProfiles is the definition of the built-in sandbox profiles, in the
// order they are listed.
var builtinProfiles = []Profile{
	{
		Name:          DefaultProfileName,
		Grant:         GrantClientCredentials,
		ClientID:      "medication-access",
		SandboxClient: "medication-access",
		Notes:         "The app's own sandbox server, logged in as the medication-access demo client.",
	},
	{
		Name:          DefaultProfileName + " — patient-access",
		Grant:         GrantClientCredentials,
		ClientID:      "patient-access",
		SandboxClient: "patient-access",
	},
	{
		Name:          DefaultProfileName + " — clinical-access",
		Grant:         GrantClientCredentials,
		ClientID:      "clinical-access",
		SandboxClient: "clinical-access",
	},
	{
		Name:          DefaultProfileName + " — limited-access",
		Grant:         GrantClientCredentials,
		ClientID:      "limited-access",
		SandboxClient: "limited-access",
	},
	{
		Name:          DefaultProfileName + " — browser login",
		Grant:         GrantAuthorizationCode,
		ClientID:      "ccexplorer-desktop",
		ClientAuth:    ClientAuthBody,
		SandboxClient: "ccexplorer-desktop",
		Notes:         "Logs in through the browser (authorization code + PKCE) as the public client ccexplorer-desktop.",
	},
}

// Builtins returns the built-in sandbox profiles as defined by this version
// of the app (without the user's notes). They have Builtin set, no BaseURL and
// a SandboxClient naming the sandbox's demo client.
func Builtins() []Profile {
	out := make([]Profile, len(builtinProfiles))
	for i, p := range builtinProfiles {
		p = p.normalized()
		p.Builtin = true
		out[i] = p
	}
	return out
}
