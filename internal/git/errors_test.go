package git

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capstan-gitops/capstan/internal/redact"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

func errorsIsContext(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func TestRemoteErrorKinds(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	seedRepo(t, srv, "app")
	srv.InitRepo(t, "empty")
	seedRepo(t, srv, "app-sha")
	srv.GitConfig(t, "app-sha", "uploadpack.allowReachableSHA1InWant", "true")
	down := testenv.NewGitServer(t)
	down.Stop()

	otherKey, otherPub := testKey(t, "")
	wrongHostKey := []byte(knownhosts.Line([]string{knownhosts.Normalize(srv.SSHAddr())}, otherPub) + "\n")
	otherHost := []byte(knownhosts.Line([]string{"github.com"}, srv.HostPublicKey()) + "\n")
	goodSSH := Auth{Identity: srv.ClientPrivateKeyPEM(), KnownHosts: srv.KnownHosts()}
	goodHTTP := Auth{Username: srv.Username(), Password: srv.Password()}
	const missing = "0123456789abcdef0123456789abcdef01234567"

	tests := []struct {
		name string
		url  string
		auth Auth
		ref  Ref
		want error
		// cloneOnly: Resolve does not look commits up, so it succeeds.
		cloneOnly bool
	}{
		{"http wrong password", srv.HTTPURL("app"), Auth{Username: srv.Username(), Password: "wrong-password-123"}, Ref{}, ErrAuthFailed, false},
		{"http wrong token", srv.HTTPURL("app"), Auth{BearerToken: "wrong-token-123"}, Ref{}, ErrAuthFailed, false},
		{"http anonymous", srv.HTTPURL("app"), Auth{}, Ref{}, ErrAuthFailed, false},
		{"http token and password", srv.HTTPURL("app"), Auth{Password: "p-123", BearerToken: "t-123"}, Ref{}, ErrInvalidAuth, false},
		{"ssh wrong key", srv.SSHURL("app"), Auth{Identity: otherKey, KnownHosts: srv.KnownHosts()}, Ref{}, ErrAuthFailed, false},
		{"ssh wrong host key", srv.SSHURL("app"), Auth{Identity: srv.ClientPrivateKeyPEM(), KnownHosts: wrongHostKey}, Ref{}, ErrHostKeyMismatch, false},
		{"ssh host not in known_hosts", srv.SCPURL("app"), Auth{Identity: srv.ClientPrivateKeyPEM(), KnownHosts: otherHost}, Ref{}, ErrHostKeyMismatch, false},
		{"ssh without known_hosts", srv.SSHURL("app"), Auth{Identity: srv.ClientPrivateKeyPEM()}, Ref{}, ErrInvalidAuth, false},
		{"ssh without identity", srv.SSHURL("app"), Auth{KnownHosts: srv.KnownHosts()}, Ref{}, ErrInvalidAuth, false},
		{"http missing repository", srv.HTTPURL("nope"), goodHTTP, Ref{}, ErrRepositoryNotFound, false},
		{"ssh missing repository", srv.SSHURL("nope"), goodSSH, Ref{}, ErrRepositoryNotFound, false},
		{"ssh path outside root", srv.SSHURL("../app"), goodSSH, Ref{}, ErrRepositoryNotFound, false},
		{"http missing branch", srv.HTTPURL("app"), goodHTTP, Ref{Branch: "nope"}, ErrRefNotFound, false},
		{"ssh missing tag", srv.SSHURL("app"), goodSSH, Ref{Tag: "v9"}, ErrRefNotFound, false},
		{"http empty repository", srv.HTTPURL("empty"), goodHTTP, Ref{}, ErrRefNotFound, false},
		{"ssh empty repository", srv.SSHURL("empty"), goodSSH, Ref{Branch: "main"}, ErrRefNotFound, false},
		{"invalid ref", srv.HTTPURL("app"), goodHTTP, Ref{Branch: "a..b"}, ErrInvalidRef, false},
		{"missing commit, full fetch", srv.HTTPURL("app"), goodHTTP, Ref{Commit: missing}, ErrRefNotFound, true},
		{"missing commit, fetch by hash", srv.SSHURL("app-sha"), goodSSH, Ref{Commit: missing}, ErrRefNotFound, true},
		{"http server down", down.HTTPURL("app"), Auth{Username: down.Username(), Password: down.Password()}, Ref{}, ErrUnreachable, false},
		{"ssh server down", down.SSHURL("app"), Auth{Identity: down.ClientPrivateKeyPEM(), KnownHosts: down.KnownHosts()}, Ref{}, ErrUnreachable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ep := testEndpoint(t, tt.url)
			_, err := Clone(t.Context(), ep, tt.auth, tt.ref, filepath.Join(t.TempDir(), "clone"))
			checkErrorKind(t, "Clone", err, tt.want, tt.url, tt.auth, srv.Password())
			if _, err := Resolve(t.Context(), ep, tt.auth, tt.ref); !tt.cloneOnly {
				checkErrorKind(t, "Resolve", err, tt.want, tt.url, tt.auth, srv.Password())
			}
		})
	}
}

// checkErrorKind checks the kind, the terminal classification, the URL in
// the message and that no secret leaked into it.
func checkErrorKind(t *testing.T, op string, err, want error, rawURL string, auth Auth, secrets ...string) {
	t.Helper()
	t.Logf("%s: %v", op, err)
	if !errors.Is(err, want) {
		t.Errorf("%s error %v, want %v", op, err, want)
		return
	}
	if got, wantTerminal := IsTerminal(err), IsTerminal(want); got != wantTerminal {
		t.Errorf("%s: IsTerminal(%v) = %v, want %v", op, err, got, wantTerminal)
	}
	msg := err.Error()
	if !strings.Contains(msg, redact.URL(rawURL)) {
		t.Errorf("%s error %q does not name the URL", op, msg)
	}
	for _, s := range append(secrets, auth.Password, auth.BearerToken) {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("%s error %q leaks %q", op, msg, s)
		}
	}
}

func TestErrorsScrubSecrets(t *testing.T) {
	t.Parallel()
	ep := testEndpoint(t, "https://git.example.com/org/repo.git")
	auth := Auth{Password: "pa ss/word", BearerToken: "tok-123"}
	cause := errors.New(`server said: bad "pa ss/word" pa+ss%2Fword pa%20ss%2Fword tok-123`)
	err := wrapErr("cloning", ep, auth, cause)
	for _, s := range []string{"pa ss/word", "pa+ss%2Fword", "pa%20ss%2Fword", "tok-123"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("message %q leaks %q", err, s)
		}
	}
	if !errors.Is(err, cause) {
		t.Errorf("scrubbing lost the cause")
	}
}
