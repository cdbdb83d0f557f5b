package testenv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh/knownhosts"
)

// testRemote is how a go-git client reaches one repository; ca is the
// extra CA bundle for https.
type testRemote struct {
	name string
	url  string
	auth transport.AuthMethod
	ca   []byte
}

// testRemotes lists every way to reach repo on srv with valid credentials.
func testRemotes(t *testing.T, srv *GitServer, repo string) []testRemote {
	sshAuth := testSSHAuth(t, srv.ClientPrivateKeyPEM(), srv.KnownHosts())
	return []testRemote{
		{"http-basic", srv.HTTPURL(repo), &githttp.BasicAuth{Username: srv.Username(), Password: srv.Password()}, nil},
		{"http-bearer", srv.HTTPURL(repo), &githttp.TokenAuth{Token: srv.Token()}, nil},
		{"https-basic", srv.HTTPSURL(repo), &githttp.BasicAuth{Username: srv.Username(), Password: srv.Password()}, srv.CACertPEM()},
		{"https-bearer", srv.HTTPSURL(repo), &githttp.TokenAuth{Token: srv.Token()}, srv.CACertPEM()},
		{"ssh-url", srv.SSHURL(repo), sshAuth, nil},
		{"ssh-scp", srv.SCPURL(repo), sshAuth, nil},
	}
}

// testSSHAuth builds go-git public key auth that verifies the host key
// against knownHosts only.
func testSSHAuth(t *testing.T, key, knownHosts []byte) *gitssh.PublicKeys {
	t.Helper()
	auth, err := gitssh.NewPublicKeys("git", key, "")
	if err != nil {
		t.Fatalf("parsing client key: %v", err)
	}
	file := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(file, knownHosts, 0o600); err != nil {
		t.Fatal(err)
	}
	if auth.HostKeyCallback, err = knownhosts.New(file); err != nil {
		t.Fatalf("reading known_hosts: %v", err)
	}
	return auth
}

// testPush commits files on a new local main branch and pushes it.
func testPush(t *testing.T, r testRemote, files map[string]string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	repo, err := gogit.PlainInitWithOptions(dir, &gogit.PlainInitOptions{
		InitOptions: gogit.InitOptions{DefaultBranch: plumbing.Main},
	})
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := wt.AddWithOptions(&gogit.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "t", Email: "t@example.invalid", When: time.Now()}
	hash, err := wt.Commit("test", &gogit.CommitOptions{Author: sig})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{r.url}}); err != nil {
		t.Fatal(err)
	}
	return hash.String(), repo.PushContext(t.Context(), &gogit.PushOptions{
		Auth: r.auth, CABundle: r.ca, RefSpecs: []config.RefSpec{"refs/heads/main:refs/heads/main"},
	})
}

// testClone clones main and returns the content of every file in files.
func testClone(t *testing.T, r testRemote, files ...string) (map[string]string, error) {
	t.Helper()
	dir := t.TempDir()
	_, err := gogit.PlainCloneContext(t.Context(), dir, false, &gogit.CloneOptions{URL: r.url, Auth: r.auth, CABundle: r.ca})
	if err != nil {
		return nil, err
	}
	got := map[string]string{}
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			got[name] = string(b)
		}
	}
	return got, nil
}

// testList lists the remote's refs, the cheapest round trip.
func testList(t *testing.T, r testRemote) error {
	remote := gogit.NewRemote(nil, &config.RemoteConfig{Name: "origin", URLs: []string{r.url}})
	_, err := remote.ListContext(t.Context(), &gogit.ListOptions{Auth: r.auth, CABundle: r.ca})
	return err
}

func TestGitServerPushAndClone(t *testing.T) {
	t.Parallel()
	srv := NewGitServer(t)
	for i, proto := range testRemotes(t, srv, "") {
		t.Run(proto.name, func(t *testing.T) {
			t.Parallel()
			srv.InitRepo(t, proto.name)
			r := testRemotes(t, srv, proto.name)[i]

			sha, err := testPush(t, r, map[string]string{"hello.txt": "hello " + r.name})
			if err != nil {
				t.Fatalf("push: %v", err)
			}
			if got := srv.BranchHead(t, r.name, "main"); got != sha {
				t.Fatalf("server main = %q, pushed %q", got, sha)
			}
			got, err := testClone(t, r, "hello.txt")
			if err != nil {
				t.Fatalf("clone: %v", err)
			}
			if diff := cmp.Diff(map[string]string{"hello.txt": "hello " + r.name}, got); diff != "" {
				t.Errorf("cloned files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGitServerRefusesBadCredentials(t *testing.T) {
	t.Parallel()
	srv := NewGitServer(t)
	srv.InitRepo(t, "app")
	srv.Commit(t, "app", "main", map[string]string{"a.txt": "a"}, "initial")
	_, otherKey, err := newGitServerKey()
	if err != nil {
		t.Fatal(err)
	}
	otherHost, _, err := newGitServerKey()
	if err != nil {
		t.Fatal(err)
	}
	wrongHosts := knownhosts.Line([]string{knownhosts.Normalize(srv.SSHAddr())}, otherHost.PublicKey())
	tests := []struct {
		name    string
		remote  testRemote
		wantIs  error
		wantMsg string
	}{
		{"http wrong password", testRemote{url: srv.HTTPURL("app"), auth: &githttp.BasicAuth{Username: srv.Username(), Password: "wrong"}}, transport.ErrAuthenticationRequired, ""},
		{"http wrong user", testRemote{url: srv.HTTPURL("app"), auth: &githttp.BasicAuth{Username: "nobody", Password: srv.Password()}}, transport.ErrAuthenticationRequired, ""},
		{"http no credentials", testRemote{url: srv.HTTPURL("app")}, transport.ErrAuthenticationRequired, ""},
		{"http wrong token", testRemote{url: srv.HTTPURL("app"), auth: &githttp.TokenAuth{Token: "wrong"}}, transport.ErrAuthenticationRequired, ""},
		{"https wrong password", testRemote{url: srv.HTTPSURL("app"), auth: &githttp.BasicAuth{Username: srv.Username(), Password: "wrong"}, ca: srv.CACertPEM()}, transport.ErrAuthenticationRequired, ""},
		{"https wrong token", testRemote{url: srv.HTTPSURL("app"), auth: &githttp.TokenAuth{Token: "wrong"}, ca: srv.CACertPEM()}, transport.ErrAuthenticationRequired, ""},
		{"https without the ca", testRemote{url: srv.HTTPSURL("app"), auth: &githttp.BasicAuth{Username: srv.Username(), Password: srv.Password()}}, nil, "certificate signed by unknown authority"},
		{"ssh unauthorized key", testRemote{url: srv.SSHURL("app"), auth: testSSHAuth(t, otherKey, srv.KnownHosts())}, nil, "unable to authenticate"},
		{"ssh wrong host key", testRemote{url: srv.SSHURL("app"), auth: testSSHAuth(t, srv.ClientPrivateKeyPEM(), []byte(wrongHosts+"\n"))}, nil, "key mismatch"},
		{"ssh unknown host", testRemote{url: srv.SSHURL("app"), auth: testSSHAuth(t, srv.ClientPrivateKeyPEM(), nil)}, nil, "key is unknown"},
		{"ssh repository outside root", testRemote{url: srv.SSHURL("../app"), auth: testSSHAuth(t, srv.ClientPrivateKeyPEM(), srv.KnownHosts())}, transport.ErrRepositoryNotFound, ""},
		{"ssh missing repository", testRemote{url: srv.SSHURL("nope"), auth: testSSHAuth(t, srv.ClientPrivateKeyPEM(), srv.KnownHosts())}, transport.ErrRepositoryNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := testList(t, tt.remote)
			if err == nil {
				t.Fatal("listing succeeded, want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %q", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestGitServerAuthorizeKey(t *testing.T) {
	t.Parallel()
	srv := NewGitServer(t)
	srv.InitRepo(t, "app")
	srv.Commit(t, "app", "main", map[string]string{"a.txt": "a"}, "initial")
	signer, pemBytes, err := newGitServerKey()
	if err != nil {
		t.Fatal(err)
	}
	r := testRemote{url: srv.SSHURL("app"), auth: testSSHAuth(t, pemBytes, srv.KnownHosts())}
	if err := testList(t, r); err == nil {
		t.Fatal("unauthorized key was accepted")
	}
	srv.AuthorizeKey(signer.PublicKey())
	if err := testList(t, r); err != nil {
		t.Fatalf("authorized key was refused: %v", err)
	}
}

func TestGitServerStopStart(t *testing.T) {
	t.Parallel()
	srv := NewGitServer(t)
	srv.InitRepo(t, "app")
	srv.Commit(t, "app", "main", map[string]string{"a.txt": "a"}, "initial")
	remotes := testRemotes(t, srv, "app")

	srv.Stop()
	for _, r := range remotes {
		if _, err := testClone(t, r, "a.txt"); err == nil {
			t.Errorf("%s: clone succeeded while the server is stopped", r.name)
		}
	}
	srv.Start(t)
	for i, r := range testRemotes(t, srv, "app") {
		if got, want := r.url, remotes[i].url; got != want {
			t.Errorf("%s: url changed across restart: %s, was %s", r.name, got, want)
		}
	}
	for _, r := range remotes {
		got, err := testClone(t, r, "a.txt")
		if err != nil {
			t.Fatalf("%s: clone after restart: %v", r.name, err)
		}
		if got["a.txt"] != "a" {
			t.Errorf("%s: a.txt = %q after restart", r.name, got["a.txt"])
		}
	}
}
