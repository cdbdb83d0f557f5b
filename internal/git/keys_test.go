package git

import (
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

func TestGenerateKeyIsUsableAsIdentity(t *testing.T) {
	t.Parallel()
	priv, pub, err := GenerateKey("capstan")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pub, "ssh-ed25519 ") || !strings.HasSuffix(pub, " capstan") {
		t.Errorf("public key line = %q", pub)
	}
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "r")
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil {
		t.Fatal(err)
	}
	srv.AuthorizeKey(key)
	ep, _ := ParseURL(srv.SSHURL("r"), false)
	if err := CheckPush(t.Context(), ep, Auth{Identity: priv, KnownHosts: srv.KnownHosts()}); err != nil {
		t.Errorf("the generated key was refused once authorized: %v", err)
	}
}

func TestScanHostKeyMatchesTheServer(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "r")
	ep, _ := ParseURL(srv.SSHURL("r"), false)
	hk, err := ScanHostKey(t.Context(), ep)
	if err != nil {
		t.Fatal(err)
	}
	if hk.Fingerprint != ssh.FingerprintSHA256(srv.HostPublicKey()) {
		t.Errorf("fingerprint %s, want %s", hk.Fingerprint, ssh.FingerprintSHA256(srv.HostPublicKey()))
	}
	// The scanned line works as known_hosts for a real connection.
	if err := CheckPush(t.Context(), ep, Auth{Identity: srv.ClientPrivateKeyPEM(), KnownHosts: hk.KnownHosts}); err != nil {
		t.Errorf("the scanned known_hosts line was not accepted: %v", err)
	}
	httpEP, _ := ParseURL(srv.HTTPURL("r"), false)
	if _, err := ScanHostKey(t.Context(), httpEP); err == nil {
		t.Error("scanned an http URL")
	}
}
