package fhirclient

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
)

// Version is a FHIR release, as far as parsing is concerned.
type Version string

// The FHIR releases the client parses. VersionUnknown means the server's
// version has not been read (Capabilities sets it); typed parsing then
// assumes STU3, the Care Connect release.
const (
	VersionUnknown Version = ""
	STU3           Version = "STU3"
	R4             Version = "R4"
)

// ErrUnsupportedVersion is returned for a fhirVersion the client cannot
// parse.
var ErrUnsupportedVersion = errors.New("unsupported FHIR version")

// VersionOf maps a CapabilityStatement's fhirVersion to a Version: 1.0.x to
// 3.0.x (as the CCRI served them) are STU3, 4.x is R4.
func VersionOf(fhirVersion string) (Version, error) {
	v := strings.TrimSpace(fhirVersion)
	switch {
	case strings.HasPrefix(v, "1.") || strings.HasPrefix(v, "3."):
		return STU3, nil
	case strings.HasPrefix(v, "4."):
		return R4, nil
	}
	return VersionUnknown, fmt.Errorf("%w %q (STU3 1.0.x-3.0.x and R4 4.0.x are)", ErrUnsupportedVersion, fhirVersion)
}

// orDefault returns v, or STU3 when v is unknown.
func (v Version) orDefault() Version {
	if v == VersionUnknown {
		return STU3
	}
	return v
}

var unmarshallers struct {
	once [2]sync.Once
	u    [2]*jsonformat.Unmarshaller
	err  [2]error
}

// unmarshaller returns the shared jsonformat unmarshaller (with validation)
// for v.
func unmarshaller(v Version) (*jsonformat.Unmarshaller, error) {
	i, fv := 0, fhirversion.STU3
	if v.orDefault() == R4 {
		i, fv = 1, fhirversion.R4
	}
	unmarshallers.once[i].Do(func() {
		unmarshallers.u[i], unmarshallers.err[i] = jsonformat.NewUnmarshaller("UTC", fv)
	})
	return unmarshallers.u[i], unmarshallers.err[i]
}
