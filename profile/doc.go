// Package profile keeps the user's saved server profiles and their secrets.
//
// A [Profile] describes one FHIR server and one OAuth2 client on it: base URL,
// grant, client id, scopes, endpoint overrides, trusted CA certificates and
// notes. Profiles live in one JSON file (see [Store]) in the user's config
// directory; the file never holds a secret. Client secrets, remembered
// passwords and tokens live only in the OS keyring (see [Secrets]).
//
// The built-in sandbox profiles (see [Builtins]) are always present: the app
// fills in their base URL and client secret from the sandbox it runs
// in-process, so they carry a [Profile.SandboxClient] instead of a base URL.
//
// Every method that changes the file takes an OS file lock, re-reads the file,
// applies the change and writes the result atomically, so a GUI and a CLI
// running at the same time never corrupt the file or drop each other's change.
package profile
