package testenv

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

func TestGitServerTLSCertificate(t *testing.T) {
	t.Parallel()
	srv := NewGitServer(t)
	other := NewGitServer(t)
	tests := []struct {
		name    string
		caPEM   []byte
		host    string
		wantErr bool
	}{
		{"ip", srv.CACertPEM(), "127.0.0.1", false},
		{"localhost", srv.CACertPEM(), "localhost", false},
		{"other name", srv.CACertPEM(), "git.example.com", true},
		{"other server's ca", other.CACertPEM(), "127.0.0.1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			roots := x509.NewCertPool()
			if !roots.AppendCertsFromPEM(tt.caPEM) {
				t.Fatal("CACertPEM holds no certificate")
			}
			_, err := srv.tls.cert.Leaf.Verify(x509.VerifyOptions{
				DNSName: tt.host, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("verifying for %s: %v, want error %v", tt.host, err, tt.wantErr)
			}
		})
	}
	block, rest := pem.Decode(srv.CACertPEM())
	if block == nil || block.Type != "CERTIFICATE" || len(rest) != 0 {
		t.Fatalf("CACertPEM is not exactly one PEM certificate")
	}
	if ca, err := x509.ParseCertificate(block.Bytes); err != nil || !ca.IsCA {
		t.Fatalf("CACertPEM is not a CA certificate: %v", err)
	}
}

func TestGitServerHTTPS(t *testing.T) {
	t.Parallel()
	srv := NewGitServer(t)
	srv.InitRepo(t, "app")
	srv.Commit(t, "app", "main", map[string]string{"a.txt": "a"}, "initial")
	basic := &githttp.BasicAuth{Username: srv.Username(), Password: srv.Password()}
	url := srv.HTTPSURL("app")
	if !strings.HasPrefix(url, "https://127.0.0.1:") || !strings.HasSuffix(url, "/app.git") {
		t.Fatalf("HTTPSURL = %s", url)
	}
	if srv.HTTPSAddr() == srv.SSHAddr() || strings.Contains(srv.HTTPURL("app"), srv.HTTPSAddr()) {
		t.Fatalf("https shares a port: https %s, http %s, ssh %s", srv.HTTPSAddr(), srv.HTTPURL("app"), srv.SSHAddr())
	}
	tests := []struct {
		name          string
		r             testRemote
		wantErr       bool
		wantUnknownCA bool
	}{
		{"with the ca", testRemote{url: url, auth: basic, ca: srv.CACertPEM()}, false, false},
		{"by name", testRemote{url: "https://localhost:" + strings.TrimPrefix(srv.HTTPSAddr(), "127.0.0.1:") + "/app.git", auth: basic, ca: srv.CACertPEM()}, false, false},
		{"system roots only", testRemote{url: url, auth: basic}, true, true},
		{"plain http to the https port", testRemote{url: "http://" + srv.HTTPSAddr() + "/app.git", auth: basic}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := testList(t, tt.r)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("listing %s: %v, want error %v", tt.r.url, err, tt.wantErr)
			}
			var unknown x509.UnknownAuthorityError
			if tt.wantUnknownCA && !errors.As(err, &unknown) {
				t.Errorf("error %v is not an x509.UnknownAuthorityError", err)
			}
		})
	}
}
