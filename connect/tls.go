package connect

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrCertificate is matched (errors.Is) by every error DescribeTLSError
// explains: the server's TLS certificate was refused.
var ErrCertificate = errors.New("the server's certificate was refused")

// CertificateError says in plain words why a server's TLS certificate was
// refused. It wraps ErrCertificate and the crypto/x509 error behind it.
type CertificateError struct {
	Problem string // plain words, e.g. "it expired on 2 Jan 2006"
	Err     error
}

// Error returns the problem in plain words.
func (e *CertificateError) Error() string {
	return "the server's certificate was refused: " + e.Problem
}

// Unwrap returns ErrCertificate and the cause.
func (e *CertificateError) Unwrap() []error { return []error{ErrCertificate, e.Err} }

// DescribeTLSError turns a failed TLS verification into a *CertificateError
// naming the problem in plain words (unknown authority, expired or not yet
// valid, issued for another host); other errors are returned
// as they are. The clients HTTPClient builds apply it to every request.
func DescribeTLSError(err error) error {
	if err == nil {
		return nil
	}
	var ce *CertificateError
	if errors.As(err, &ce) {
		return err
	}
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
	)
	describe := func(p string) error { return &CertificateError{Problem: p, Err: err} }
	switch {
	case errors.As(err, &unknown):
		issuer := ""
		if unknown.Cert != nil {
			issuer = unknown.Cert.Issuer.CommonName
			if issuer == "" && len(unknown.Cert.Issuer.Organization) > 0 {
				issuer = unknown.Cert.Issuer.Organization[0]
			}
		}
		by := "an authority"
		if issuer != "" {
			by = fmt.Sprintf("%q", issuer)
		}
		if c := unknown.Cert; c != nil && !c.IsCA && c.Issuer.String() == c.Subject.String() {
			by = "itself (a self-signed certificate)"
		}
		return describe(fmt.Sprintf("it was issued by %s, which this computer does not trust; "+
			"if the server uses a private certificate authority, set that authority's certificate as the profile's CA certificate file", by))
	case errors.As(err, &hostname):
		return describe(fmt.Sprintf("it is for %s, not for %s; check the server address", certNames(hostname.Certificate), hostname.Host))
	case errors.As(err, &invalid):
		switch {
		case invalid.Reason == x509.Expired && invalid.Cert != nil && time.Now().Before(invalid.Cert.NotBefore):
			return describe("it is not valid until " + invalid.Cert.NotBefore.UTC().Format("2 Jan 2006 15:04 MST") + "; check the computer's clock")
		case invalid.Reason == x509.Expired && invalid.Cert != nil:
			return describe("it expired on " + invalid.Cert.NotAfter.UTC().Format("2 Jan 2006 15:04 MST"))
		case invalid.Reason == x509.Expired:
			return describe("it has expired or is not yet valid")
		}
		return describe("it is not valid (" + strings.TrimPrefix(invalid.Error(), "x509: ") + ")")
	case errors.As(err, &verify):
		return describe(strings.TrimPrefix(verify.Err.Error(), "x509: "))
	}
	return err
}

// certNames lists the names a certificate is for.
func certNames(c *x509.Certificate) string {
	if c == nil {
		return "another host"
	}
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName)
	}
	if len(names) == 0 {
		return "no host name"
	}
	return strings.Join(names, ", ")
}

// explainTLS is the transport of HTTPClient's clients: it passes requests to
// the *http.Transport and explains refused certificates in plain words.
type explainTLS struct{ base *http.Transport }

func (t explainTLS) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, DescribeTLSError(err)
	}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (t explainTLS) CloseIdleConnections() { t.base.CloseIdleConnections() }
