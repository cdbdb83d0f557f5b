package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/components/repo"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// sopsMAC is the ciphertext of the SOPS-encrypted file: it is meant to be in
// git and in the cluster, unlike the credentials.
const sopsMAC = "ENC[AES256_GCM,data:7vJ2nXq0pBcE1w==,iv:Q2FwY3N0YW4tc29wcy1pdg==,tag:dGFn,type:str]"

// sopsFiles are a CRD that keeps unknown fields and a SOPS-encrypted object
// of it, committed and synced as they are.
var sopsFiles = map[string]string{
	"clusters/e2e/apps/sops-crd.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: sopssecrets.e2e.capstan.dev
spec:
  group: e2e.capstan.dev
  names: {kind: SopsSecret, plural: sopssecrets, singular: sopssecret, listKind: SopsSecretList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`,
	"clusters/e2e/apps/db.sops.yaml": `apiVersion: e2e.capstan.dev/v1
kind: SopsSecret
metadata:
    name: db
    namespace: web
spec:
    stringData:
        password: ENC[AES256_GCM,data:Zm9vYmFy,iv:aXYtZGI=,tag:dGFnLWRi,type:str]
sops:
    age:
        - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBjYXBzdGFu
            -----END AGE ENCRYPTED FILE-----
    lastmodified: "2025-01-01T00:00:00Z"
    mac: ` + sopsMAC + `
    encrypted_regex: ^(data|stringData)$
    version: 3.9.0
`,
}

// TestNoSecretLeaks bootstraps and syncs with each kind of credential, runs
// the day-2 commands, and then looks for the credentials in everything a
// person or a log collector sees: the controller's debug logs, every event,
// every Sync's status, every line the CLI printed and every commit.
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
			f.srv.Commit(t, f.repo, "main", sopsFiles, "add an encrypted secret")
			tg := newLoggedTarget(t)
			args, env := m.args(f, t.TempDir())
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
			assertSOPSSynced(t, tg.admin)
			mustSucceed(t, "reconcile", run("reconcile", repo.RootSyncName))
			mustSucceed(t, "status", run("status", "-A"))
			mustSucceed(t, "status of the root Sync", run("status", repo.RootSyncName))
			mustSucceed(t, "check", run("check"))
			mustSucceed(t, "diff", run("diff", repo.RootSyncName))
			mustSucceed(t, "diff -o json", run("diff", "-o", "json", repo.RootSyncName))
			assertCredentialsInUse(t, tg.admin, m.key, m.value(f.srv))

			tg.stop()
			hay := map[string]string{"controller logs": tg.logs.String(), "CLI output": strings.Join(out, "\n")}
			if !strings.Contains(hay["controller logs"], `"level":"debug"`) && !strings.Contains(hay["controller logs"], "DEBUG") {
				t.Errorf("the controller logged nothing at debug level:\n%s", tail(hay["controller logs"], 2000))
			}
			collectCluster(t, tg.admin, hay)
			commits := collectCommits(t, f.srv.RepoDir(f.repo), hay)
			t.Logf("searched %d commits, %d bytes of controller logs, %d of CLI output", commits, len(hay["controller logs"]), len(hay["CLI output"]))
			if commits < 3 {
				t.Errorf("only %d commits searched, want the fleet's, the SOPS file's and bootstrap's", commits)
			}
			for where, text := range hay {
				for name, secret := range plantedSecrets(f.srv) {
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

// assertSOPSSynced checks that the encrypted object reached the cluster
// unchanged: Capstan neither decrypts nor drops the SOPS metadata.
func assertSOPSSynced(t *testing.T, c client.Client) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("e2e.capstan.dev/v1")
	u.SetKind("SopsSecret")
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: "web", Name: "db"}, u); err != nil {
		t.Fatalf("the SOPS-encrypted object was not synced: %v", err)
	}
	if mac, _, _ := unstructured.NestedString(u.Object, "sops", "mac"); mac != sopsMAC {
		t.Errorf("sops.mac in the cluster = %q, want the committed %q", mac, sopsMAC)
	}
}

// loggedTarget is a test cluster whose controller runs at debug level, with
// its output kept for the test to read.
type loggedTarget struct {
	target
	logs testenv.Buffer
	stop func()
}

func newLoggedTarget(t *testing.T) *loggedTarget {
	t.Helper()
	cluster := testenv.StartCluster(t, testenv.ClusterOptions{})
	lt := &loggedTarget{target: target{cluster: cluster, admin: adminClient(t, cluster)}}
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
	cmd.Args = append(cmd.Args, "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = &lt.logs, &lt.logs
	_ = cmd.Run()
}
