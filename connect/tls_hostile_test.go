package connect

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/careconnectexplorer/ccexplorer/fhirclient"
	"github.com/careconnectexplorer/ccexplorer/profile"
)

// testCA is a private certificate authority made for one test.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	pemFile string // the CA certificate as a PEM file
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name, Organization: []string{"Care Connect Explorer tests"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pemFile: file}
}

// leaf issues a server certificate for hosts (DNS names or IPs), valid from
// notBefore to notAfter.
func (ca *testCA) leaf(t *testing.T, hosts []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key}
}

// tlsServer serves h over TLS on 127.0.0.1 with cert.
func tlsServer(t *testing.T, cert tls.Certificate, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func bundleHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/fhir+json")
	fmt.Fprint(w, `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"resource":{"resourceType":"Patient","id":"1"},"search":{"mode":"match"}}]}`)
}

func TestBadCertificatesAreRefusedInPlainWords(t *testing.T) {
	ca := newTestCA(t, "Workshop Private CA")
	other := newTestCA(t, "Somebody Else's CA")
	now := time.Now()
	local := []string{"127.0.0.1", "localhost"}
	tests := []struct {
		name  string
		cert  tls.Certificate
		want  []string // in the message
		cause any      // the x509 error behind it
	}{
		{"unknown authority", other.leaf(t, local, now.Add(-time.Hour), now.Add(time.Hour)),
			[]string{`"Somebody Else's CA"`, "does not trust", "CA certificate file"}, &x509.UnknownAuthorityError{}},
		{"expired", ca.leaf(t, local, now.Add(-48*time.Hour), now.Add(-24*time.Hour)),
			[]string{"it expired on " + now.Add(-24*time.Hour).UTC().Format("2 Jan 2006")}, &x509.CertificateInvalidError{}},
		{"not yet valid", ca.leaf(t, local, now.Add(24*time.Hour), now.Add(48*time.Hour)),
			[]string{"not valid until", "clock"}, &x509.CertificateInvalidError{}},
		{"another host", ca.leaf(t, []string{"fhir.other.example"}, now.Add(-time.Hour), now.Add(time.Hour)),
			[]string{"it is for fhir.other.example, not for 127.0.0.1"}, &x509.HostnameError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := tlsServer(t, tt.cert, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				bundleHandler(w, r)
			}))
			hc, err := HTTPClient(profile.Profile{CACertFile: ca.pemFile})
			if err != nil {
				t.Fatal(err)
			}
			fc := fhirclient.New(srv.URL+"/fhir", hc)
			_, err = fc.Search(context.Background(), "Patient", nil)
			if !errors.Is(err, ErrCertificate) {
				t.Fatalf("error %v, want ErrCertificate", err)
			}
			switch want := tt.cause.(type) {
			case *x509.UnknownAuthorityError:
				if !errors.As(err, want) {
					t.Errorf("error %v does not wrap the x509 cause", err)
				}
			case *x509.CertificateInvalidError:
				if !errors.As(err, want) {
					t.Errorf("error %v does not wrap the x509 cause", err)
				}
			case *x509.HostnameError:
				if !errors.As(err, want) {
					t.Errorf("error %v does not wrap the x509 cause", err)
				}
			}
			for _, w := range append(tt.want, "certificate was refused") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "x509:") {
				t.Errorf("error %q is raw x509 text", err)
			}
			if hits.Load() != 0 {
				t.Error("the request reached the server")
			}
			// The client stays usable: the request log has the failure.
			if es := fc.Log().Entries(); len(es) != 1 || !strings.Contains(es[0].Error, "certificate was refused") {
				t.Errorf("log %+v", es)
			}
		})
	}
}

// A profile's extra CA makes a server with a private CA work; without it,
// the same server is refused.
func TestProfileCAFileTrustsAPrivateCA(t *testing.T) {
	ca := newTestCA(t, "Workshop Private CA")
	srv := tlsServer(t, ca.leaf(t, []string{"127.0.0.1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)),
		http.HandlerFunc(bundleHandler))
	p := profile.Profile{Name: "private", BaseURL: srv.URL + "/fhir", Grant: profile.GrantNone, CACertFile: ca.pemFile}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	w := openWorkspace(t, t.TempDir())
	tgt, err := w.Resolve(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tgt.FHIR(nil).Search(context.Background(), "Patient", nil)
	if err != nil || len(b.Entries) != 1 {
		t.Fatalf("search with the profile's CA: %v", err)
	}

	p.CACertFile = ""
	tgt, err = w.Resolve(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tgt.FHIR(nil).Search(context.Background(), "Patient", nil)
	if !errors.Is(err, ErrCertificate) || !strings.Contains(err.Error(), "Workshop Private CA") {
		t.Fatalf("without the CA file: %v, want the certificate refused naming the CA", err)
	}
}

// An https profile redirected to http is refused, and the http server never
// sees the request (nor its token).
func TestHTTPSRedirectToHTTPRefused(t *testing.T) {
	ca := newTestCA(t, "Workshop Private CA")
	var plainHits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Add(1)
		bundleHandler(w, r)
	}))
	defer plain.Close()
	plainURL, _ := url.Parse(plain.URL)
	secure := tlsServer(t, ca.leaf(t, []string{"127.0.0.1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://"+plainURL.Host+r.URL.RequestURI(), http.StatusFound)
		}))
	hc, err := HTTPClient(profile.Profile{CACertFile: ca.pemFile})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, secure.URL+"/fhir/Patient", nil)
	req.Header.Set("Authorization", "Bearer secret-token")
	resp, err := hc.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, ErrRedirectRefused) || !strings.Contains(err.Error(), "from https to http") {
		t.Fatalf("https→http redirect: %v, want ErrRedirectRefused", err)
	}
	// Through the FHIR client as well, with the token below it.
	fc := fhirclient.New(secure.URL+"/fhir", hc)
	if _, err := fc.Search(context.Background(), "Patient", nil); !errors.Is(err, fhirclient.ErrCrossOrigin) && !errors.Is(err, ErrRedirectRefused) {
		t.Errorf("FHIR search redirected to http: %v, want it refused", err)
	}
	if plainHits.Load() != 0 {
		t.Errorf("the http server got %d requests", plainHits.Load())
	}
}

// There is no switch that turns TLS verification off: no non-test source in
// the module sets InsecureSkipVerify (a future switch must be for loopback
// hosts only, and this test must then check that).
func TestNoSkipVerifySwitch(t *testing.T) {
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "InsecureSkipVerify") {
			t.Errorf("%s sets InsecureSkipVerify", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDescribeTLSErrorLeavesOtherErrors(t *testing.T) {
	plain := errors.New("connection refused")
	if got := DescribeTLSError(plain); got != plain {
		t.Errorf("DescribeTLSError(%v) = %v", plain, got)
	}
	if DescribeTLSError(nil) != nil {
		t.Error("DescribeTLSError(nil) is not nil")
	}
}
