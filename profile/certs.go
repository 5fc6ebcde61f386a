package profile

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// maxCAFileSize bounds the CA file read by CertPool.
const maxCAFileSize = 4 << 20

// CertPool returns the system's trusted roots plus the certificates in the
// profile's CACertFile, for use as tls.Config.RootCAs. It returns nil and no
// error when the profile has no CA file, meaning "the system roots". A file
// that is missing, unreadable or holds no PEM certificate gives a
// *ValidationError for FieldCACertFile naming the file.
func (p Profile) CertPool() (*x509.CertPool, error) {
	p = p.normalized()
	if p.CACertFile == "" {
		return nil, nil
	}
	fail := func(format string, args ...any) error {
		return &ValidationError{Profile: p.Name, Problems: []FieldError{{
			Field: FieldCACertFile, Message: fmt.Sprintf(format, args...),
		}}}
	}
	info, err := os.Stat(p.CACertFile)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fail("the CA certificate file %s does not exist", p.CACertFile)
	case err != nil:
		return nil, fail("cannot read the CA certificate file %s: %v", p.CACertFile, err)
	case info.IsDir():
		return nil, fail("%s is a folder, not a PEM file", p.CACertFile)
	case info.Size() > maxCAFileSize:
		return nil, fail("the CA certificate file %s is too large to be a PEM bundle", p.CACertFile)
	}
	pem, err := os.ReadFile(p.CACertFile)
	if err != nil {
		return nil, fail("cannot read the CA certificate file %s: %v", p.CACertFile, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fail("the file %s holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)", p.CACertFile)
	}
	return pool, nil
}
