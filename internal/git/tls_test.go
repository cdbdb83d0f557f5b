package git

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

// testCACert returns a new self-signed CA certificate as PEM.
func testCACert(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestHTTPSErrorKinds(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	seedRepo(t, srv, "app")
	down := testenv.NewGitServer(t)
	down.Stop()
	ca := srv.CACertPEM()
	basic := func(password string, ca []byte) Auth {
		return Auth{Username: srv.Username(), Password: password, CABundle: ca}
	}

	tests := []struct {
		name    string
		url     string
		auth    Auth
		want    error
		wantMsg string
	}{
		{"system roots only", srv.HTTPSURL("app"), basic(srv.Password(), nil), ErrTLS, "certificate signed by unknown authority"},
		{"bearer, system roots only", srv.HTTPSURL("app"), Auth{BearerToken: srv.Token()}, ErrTLS, "unknown authority"},
		{"another server's ca", srv.HTTPSURL("app"), basic(srv.Password(), down.CACertPEM()), ErrTLS, "unknown authority"},
		{"unrelated ca", srv.HTTPSURL("app"), basic(srv.Password(), testCACert(t)), ErrTLS, "unknown authority"},
		{"wrong password", srv.HTTPSURL("app"), basic("wrong-password-123", ca), ErrAuthFailed, ""},
		{"wrong token", srv.HTTPSURL("app"), Auth{BearerToken: "wrong-token-123", CABundle: ca}, ErrAuthFailed, ""},
		{"anonymous", srv.HTTPSURL("app"), Auth{CABundle: ca}, ErrAuthFailed, ""},
		{"garbage ca", srv.HTTPSURL("app"), basic(srv.Password(), []byte("not a certificate")), ErrInvalidAuth, "CA bundle"},
		{"missing repository", srv.HTTPSURL("nope"), basic(srv.Password(), ca), ErrRepositoryNotFound, ""},
		{"server down", down.HTTPSURL("app"), Auth{Username: down.Username(), Password: down.Password(), CABundle: down.CACertPEM()}, ErrUnreachable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ep := testEndpoint(t, tt.url)
			_, err := Clone(t.Context(), ep, tt.auth, Ref{}, filepath.Join(t.TempDir(), "clone"))
			checkErrorKind(t, "Clone", err, tt.want, tt.url, tt.auth, srv.Password(), srv.Token())
			_, err = Resolve(t.Context(), ep, tt.auth, Ref{Branch: "main"})
			checkErrorKind(t, "Resolve", err, tt.want, tt.url, tt.auth, srv.Password(), srv.Token())
			_, err = OpenBranch(t.Context(), ep, tt.auth, "main", filepath.Join(t.TempDir(), "work"))
			checkErrorKind(t, "OpenBranch", err, tt.want, tt.url, tt.auth, srv.Password(), srv.Token())
			if err != nil && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
		})
	}
}

func TestHTTPSCABundleIgnoredElsewhere(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	_, c2, _ := seedRepo(t, srv, "app")
	garbage := []byte("not a certificate")
	tests := []struct {
		name string
		url  string
		auth Auth
	}{
		{"ssh", srv.SSHURL("app"), Auth{Identity: srv.ClientPrivateKeyPEM(), KnownHosts: srv.KnownHosts(), CABundle: garbage}},
		{"plain http", srv.HTTPURL("app"), Auth{Username: srv.Username(), Password: srv.Password(), CABundle: garbage}},
		{"https by name", "https://localhost:" + strings.TrimPrefix(srv.HTTPSAddr(), "127.0.0.1:") + "/app.git",
			Auth{BearerToken: srv.Token(), CABundle: srv.CACertPEM()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rev, err := Resolve(t.Context(), testEndpoint(t, tt.url), tt.auth, Ref{Branch: "main"})
			if err != nil || rev != NewRevision("main", c2) {
				t.Fatalf("Resolve() = %s, %v; want main@sha1:%s", rev, err, c2)
			}
		})
	}
}

func TestKindOfCertificateErrors(t *testing.T) {
	t.Parallel()
	cert := &x509.Certificate{Subject: pkix.Name{CommonName: "x"}}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"unknown authority", x509.UnknownAuthorityError{Cert: cert}, ErrTLS},
		{"wrong host", x509.HostnameError{Certificate: cert, Host: "git.example.com"}, ErrTLS},
		{"expired", x509.CertificateInvalidError{Cert: cert, Reason: x509.Expired}, ErrTLS},
		{"verification, wrapped by net/http", &url.Error{Op: "Get", URL: "https://git.example.com", Err: &tls.CertificateVerificationError{Err: errors.New("x")}}, ErrTLS},
		{"record header", &url.Error{Op: "Get", URL: "https://git.example.com", Err: tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := kindOf(fmt.Errorf("unexpected client error: %w", tt.err)); got != tt.want {
				t.Errorf("kindOf(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
