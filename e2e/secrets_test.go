package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/components/repo"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"filippo.io/age"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/sops"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// sopsPlaintext is the value of the SOPS-encrypted Secret each run
// commits: it must reach the cluster's Secret and nothing else.
const sopsPlaintext = "PLAINTEXT-sops-db-password"

// commitEncryptedSecret generates an age key into dir, commits a Secret
// encrypted for it (as sops --encrypt --age … --encrypted-regex
// '^(data|stringData)$' writes it) and returns the key file and the
// identity.
func commitEncryptedSecret(t *testing.T, f *fleet, dir string) (string, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "age.key")
	if err := os.WriteFile(keyFile, []byte("# public key: "+id.Recipient().String()+"\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	plain := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: web\nstringData:\n  password: " + sopsPlaintext + "\n"
	enc, err := sops.Encrypt([]byte(plain), sops.YAML, sops.EncryptOptions{Recipients: []string{id.Recipient().String()}, EncryptedRegex: "^(data|stringData)$"})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Commit(t, f.repo, "main", map[string]string{"clusters/e2e/apps/db.sops.yaml": string(enc)}, "add an encrypted secret")
	return keyFile, id.String()
}

// TestNoSecretLeaks bootstraps and syncs with each kind of credential and a
// SOPS-encrypted Secret (--age-key-file), runs the day-2 commands, and then
// looks for the credentials, the Secret's plaintext and the age identity in
// everything a person or a log collector sees: the controller's debug logs,
// every event, every Sync's status, every line the CLI printed, every
// commit, and every file the controller left under its temp, cache and
// home directories (its checkouts included).
func TestNoSecretLeaks(t *testing.T) {
	t.Parallel()
	modes := []struct {
		name string
		args func(f *fleet, dir string) ([]string, []string)
		// key of the credentials Secret that must hold value.
		key   string
		value func(*testenv.GitServer) []byte
	}{
		{"password", func(f *fleet, _ string) ([]string, []string) {
			return []string{"--url", f.srv.HTTPURL(f.repo), "--username", f.srv.Username()}, []string{"CAPSTAN_GIT_PASSWORD=" + f.srv.Password()}
		}, "password", func(s *testenv.GitServer) []byte { return []byte(s.Password()) }},
		{"token", func(f *fleet, _ string) ([]string, []string) {
			return []string{"--url", f.srv.HTTPURL(f.repo)}, []string{"CAPSTAN_GIT_TOKEN=" + f.srv.Token()}
		}, "bearerToken", func(s *testenv.GitServer) []byte { return []byte(s.Token()) }},
		{"ssh key", func(f *fleet, dir string) ([]string, []string) {
			key, hosts := filepath.Join(dir, "id_ed25519"), filepath.Join(dir, "known_hosts")
			if err := errors.Join(os.WriteFile(key, f.srv.ClientPrivateKeyPEM(), 0o600), os.WriteFile(hosts, f.srv.KnownHosts(), 0o600)); err != nil {
				t.Fatal(err)
			}
			return []string{"--url", f.srv.SSHURL(f.repo), "--private-key-file", key, "--ssh-known-hosts", hosts}, nil
		}, "identity", (*testenv.GitServer).ClientPrivateKeyPEM},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f := newFleet(t)
			keyFile, identity := commitEncryptedSecret(t, f, t.TempDir())
			tg := newLoggedTarget(t)
			args, env := m.args(f, t.TempDir())
			args = append(args, "--age-key-file", keyFile)
			env = append(env, "NO_COLOR=1", "KUBECONFIG="+tg.cluster.Kubeconfig)
			var out []string
			run := func(args ...string) result {
				r := capstan(t, env, args...)
				out = append(out, fmt.Sprintf("$ capstan %s (exit %d)\n%s\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr))
				return r
			}
			mustSucceed(t, "bootstrap", run(append([]string{"bootstrap", "--path", "clusters/e2e", "--timeout", "3m"}, args...)...))
			root := tg.rootSync(t)
			if want := "main@sha1:" + f.head(t); root.Status.LastAppliedRevision != want {
				t.Fatalf("root Sync at %q, want %s", root.Status.LastAppliedRevision, want)
			}
			assertSOPSDecrypted(t, tg.admin)
			mustSucceed(t, "reconcile", run("reconcile", repo.RootSyncName))
			mustSucceed(t, "status", run("status", "-A"))
			mustSucceed(t, "status of the root Sync", run("status", repo.RootSyncName))
			mustSucceed(t, "check", run("check"))
			mustSucceed(t, "diff", run("diff", "--age-key-file", keyFile, repo.RootSyncName))
			mustSucceed(t, "diff -o json", run("diff", "-o", "json", "--age-key-file", keyFile, repo.RootSyncName))
			assertCredentialsInUse(t, tg.admin, m.key, m.value(f.srv))

			tg.stop()
			hay := map[string]string{"controller logs": tg.logs.String(), "CLI output": strings.Join(out, "\n")}
			if !strings.Contains(hay["controller logs"], `"level":"debug"`) && !strings.Contains(hay["controller logs"], "DEBUG") {
				t.Errorf("the controller logged nothing at debug level:\n%s", tail(hay["controller logs"], 2000))
			}
			collectCluster(t, tg.admin, hay)
			n := collectFiles(t, tg.dirs, hay)
			t.Logf("searched %d files the controller left", n)
			// Its checkout holds the encrypted file: the search covered it.
			if !slices.ContainsFunc(slices.Collect(maps.Keys(hay)), func(k string) bool {
				return strings.HasPrefix(k, "file $TMPDIR/") && strings.HasSuffix(k, "/clusters/e2e/apps/db.sops.yaml")
			}) {
				t.Error("no checkout of the repository was found under the controller's TMPDIR: its checkouts were not searched")
			}
			commits := collectCommits(t, f.srv.RepoDir(f.repo), hay)
			t.Logf("searched %d commits, %d bytes of controller logs, %d of CLI output", commits, len(hay["controller logs"]), len(hay["CLI output"]))
			if commits < 3 {
				t.Errorf("only %d commits searched, want the fleet's, the SOPS file's and bootstrap's", commits)
			}
			planted := plantedSecrets(f.srv)
			planted["SOPS plaintext"], planted["age identity"] = sopsPlaintext, identity
			for where, text := range hay {
				for name, secret := range planted {
					if i := strings.Index(text, secret); i >= 0 {
						t.Errorf("%s holds the %s: …%s…", where, name, text[max(0, i-120):min(len(text), i+len(secret)+40)])
					}
				}
			}
		})
	}
}

// plantedSecrets are the credentials of srv, and distinctive parts of its
// client's private key. The first line of an OpenSSH key's body is the same
// for every ed25519 key, so it is not searched alone.
func plantedSecrets(srv *testenv.GitServer) map[string]string {
	out := map[string]string{"password": srv.Password(), "token": srv.Token()}
	var body []string
	for _, line := range strings.Split(strings.TrimSpace(string(srv.ClientPrivateKeyPEM())), "\n") {
		if !strings.HasPrefix(line, "-----") {
			body = append(body, line)
		}
	}
	out["private key body"] = strings.Join(body, "\n")
	out["private key body, one line"] = strings.Join(body, "")
	for i, line := range body[1:] {
		if len(line) >= 24 {
			out[fmt.Sprintf("private key line %d", i+2)] = line
		}
	}
	last := body[len(body)-2] // key material, before the padded last line
	out["private key substring"] = last[len(last)/2-12 : len(last)/2+12]
	return out
}

// assertCredentialsInUse checks that the cluster's credentials Secret holds
// the planted value: the search is for what the controller really used.
func assertCredentialsInUse(t *testing.T, c client.Client, key string, value []byte) {
	t.Helper()
	s := &corev1.Secret{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: manifests.Namespace, Name: repo.CredentialsSecret}, s); err != nil {
		t.Fatalf("reading the credentials: %v", err)
	}
	if !bytes.Equal(bytes.TrimSpace(s.Data[key]), bytes.TrimSpace(value)) {
		t.Errorf("the credentials Secret's %s is not the planted value", key)
	}
}

// collectCluster adds every event and every Sync's status to hay.
func collectCluster(t *testing.T, c client.Client, hay map[string]string) {
	t.Helper()
	var events corev1.EventList
	if err := c.List(t.Context(), &events); err != nil {
		t.Fatalf("listing events: %v", err)
	}
	if len(events.Items) == 0 {
		t.Error("no events to search")
	}
	for _, e := range events.Items {
		data, _ := json.Marshal(e)
		hay["event "+e.Namespace+"/"+e.Name] = string(data)
	}
	var syncs capstanv1.SyncList
	if err := c.List(t.Context(), &syncs); err != nil {
		t.Fatalf("listing syncs: %v", err)
	}
	for _, s := range syncs.Items {
		data, _ := json.Marshal(s.Status)
		hay["status of Sync "+s.Namespace+"/"+s.Name] = string(data)
	}
}

// collectCommits adds the message and every file of every commit of the
// repository at dir to hay and returns how many commits there are.
func collectCommits(t *testing.T, dir string, hay map[string]string) int {
	t.Helper()
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	iter, err := repo.CommitObjects()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = iter.ForEach(func(c *object.Commit) error {
		n++
		hay["message of commit "+c.Hash.String()] = c.Message + "\n" + c.Author.String() + "\n" + c.Committer.String()
		files, err := c.Files()
		if err != nil {
			return err
		}
		return files.ForEach(func(f *object.File) error {
			content, err := f.Contents()
			hay["file "+f.Name+" of commit "+c.Hash.String()[:8]] = content
			return err
		})
	})
	if err != nil {
		t.Fatalf("reading commits: %v", err)
	}
	return n
}

// assertSOPSDecrypted checks that the encrypted Secret reached the cluster
// with its plaintext.
func assertSOPSDecrypted(t *testing.T, c client.Client) {
	t.Helper()
	s := &corev1.Secret{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: "web", Name: "db"}, s); err != nil {
		t.Fatalf("the SOPS-encrypted Secret was not synced: %v", err)
	}
	if got := string(s.Data["password"]); got != sopsPlaintext {
		t.Errorf("the Secret's password is %q, want the decrypted value", got)
	}
}

// loggedTarget is a test cluster whose controller runs at debug level, with
// its output kept for the test to read.
type loggedTarget struct {
	target
	logs testenv.Buffer
	stop func()
	// dirs are the controller's TMPDIR (where its checkouts go by
	// default), XDG_CACHE_HOME and HOME, by name.
	dirs map[string]string
}

func newLoggedTarget(t *testing.T) *loggedTarget {
	t.Helper()
	cluster := testenv.StartCluster(t, testenv.ClusterOptions{})
	lt := &loggedTarget{target: target{cluster: cluster, admin: adminClient(t, cluster)},
		dirs: map[string]string{"TMPDIR": t.TempDir(), "XDG_CACHE_HOME": t.TempDir(), "HOME": t.TempDir()}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		lt.runController(ctx, t)
	}()
	lt.stop = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(lt.stop)
	return lt
}

// runController waits for the controller's ServiceAccount, then runs
// `capstan controller --log-level debug` until ctx is done.
func (lt *loggedTarget) runController(ctx context.Context, t *testing.T) {
	key := client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.ControllerName}
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		return lt.admin.Get(ctx, key, &corev1.ServiceAccount{}) == nil, nil
	})
	if err != nil {
		return
	}
	cmd, err := controllerCmd(ctx, t, lt.cluster.Config)
	if err != nil {
		t.Error(err)
		return
	}
	// The default work dir, under TMPDIR, as in the controller's pod.
	if i := slices.Index(cmd.Args, "--work-dir"); i >= 0 {
		cmd.Args = slices.Delete(cmd.Args, i, i+2)
	}
	cmd.Args = append(cmd.Args, "--log-level", "debug")
	cmd.Env = os.Environ()
	for name, dir := range lt.dirs {
		cmd.Env = append(cmd.Env, name+"="+dir)
	}
	cmd.Stdout, cmd.Stderr = &lt.logs, &lt.logs
	_ = cmd.Run()
}

// collectFiles adds every regular file below dirs to hay and returns how
// many there were.
func collectFiles(t *testing.T, dirs map[string]string, hay map[string]string) int {
	t.Helper()
	n := 0
	for name, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			hay["file $"+name+"/"+rel] = string(data)
			n++
			return nil
		})
		if err != nil {
			t.Fatalf("reading the controller's %s: %v", name, err)
		}
	}
	return n
}
