package git

import (
	"testing"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

// testTransport is one way to reach a repository on the test server.
type testTransport struct {
	name string
	url  func(srv *testenv.GitServer, repo string) string
	auth func(srv *testenv.GitServer) Auth
}

// testTransports lists HTTP and HTTPS (trusting the server's CA) with basic
// and bearer auth, and SSH with both address forms.
func testTransports() []testTransport {
	sshAuth := func(s *testenv.GitServer) Auth {
		return Auth{Identity: s.ClientPrivateKeyPEM(), KnownHosts: s.KnownHosts()}
	}
	return []testTransport{
		{"http-basic", (*testenv.GitServer).HTTPURL, func(s *testenv.GitServer) Auth {
			return Auth{Username: s.Username(), Password: s.Password()}
		}},
		{"http-bearer", (*testenv.GitServer).HTTPURL, func(s *testenv.GitServer) Auth {
			return Auth{BearerToken: s.Token()}
		}},
		{"https-basic", (*testenv.GitServer).HTTPSURL, func(s *testenv.GitServer) Auth {
			return Auth{Username: s.Username(), Password: s.Password(), CABundle: s.CACertPEM()}
		}},
		{"https-bearer", (*testenv.GitServer).HTTPSURL, func(s *testenv.GitServer) Auth {
			return Auth{BearerToken: s.Token(), CABundle: s.CACertPEM()}
		}},
		{"ssh-url", (*testenv.GitServer).SSHURL, sshAuth},
		{"ssh-scp", (*testenv.GitServer).SCPURL, sshAuth},
	}
}

// testEndpoint parses a URL the test server handed out.
func testEndpoint(t *testing.T, raw string) Endpoint {
	t.Helper()
	ep, err := ParseURL(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	return ep
}
