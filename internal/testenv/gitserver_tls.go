package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// gitServerTLS is one server's private certificate authority and the
// certificate, signed by it, that the server presents over HTTPS.
type gitServerTLS struct {
	caPEM []byte
	cert  tls.Certificate
}

// newGitServerTLS generates a CA and a server certificate for 127.0.0.1
// (an IP SAN) and localhost, both valid from an hour ago for a week.
func newGitServerTLS() (*gitServerTLS, error) {
	notBefore := time.Now().Add(-time.Hour)
	notAfter := notBefore.Add(7 * 24 * time.Hour)
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating ca key: %w", err)
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          gitServerSerial(),
		Subject:               pkix.Name{Organization: []string{"Capstan testenv"}, CommonName: "capstan testenv CA " + gitServerRandom(4)},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("signing ca certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parsing ca certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating server key: %w", err)
	}
	template := &x509.Certificate{
		SerialNumber: gitServerSerial(),
		Subject:      pkix.Name{Organization: []string{"Capstan testenv"}, CommonName: "capstan testenv git server"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca, key.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("signing server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing server certificate: %w", err)
	}
	return &gitServerTLS{
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		cert:  tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
	}, nil
}

// gitServerSerial is a random 128-bit certificate serial number.
func gitServerSerial() *big.Int {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return new(big.Int).SetBytes(b)
}

// config is the server side TLS configuration.
func (c *gitServerTLS) config() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.cert}, MinVersion: tls.VersionTLS12}
}

// HTTPSURL is the smart HTTP over TLS URL of repository repo, for example
// https://127.0.0.1:PORT/repo.git. Clients must trust CACertPEM; the
// certificate also holds for https://localhost:PORT.
func (s *GitServer) HTTPSURL(repo string) string {
	return "https://" + s.HTTPSAddr() + "/" + repo + ".git"
}

// HTTPSAddr is the host:port the HTTPS server listens on.
func (s *GitServer) HTTPSAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.httpsAddr
}

// CACertPEM is the PEM certificate of the server's private certificate
// authority, which signed the HTTPS server's certificate. No system trusts
// it, so clients must be given it, as a ca.crt in a Secret for example.
func (s *GitServer) CACertPEM() []byte {
	return append([]byte(nil), s.tls.caPEM...)
}
