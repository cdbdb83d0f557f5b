package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/components/repo"
	"github.com/capstan-gitops/capstan/internal/sops"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// Plaintexts of the generated-key flow: each must reach the cluster and
// nothing else.
const (
	createdPlaintext = "PLAINTEXT-created-db-password"
	envPlaintext     = "PLAINTEXT-env-api-token"
	cmPlaintext      = "PLAINTEXT-configmap-setting"
)

// TestGenerateAgeKeyFlow: `bootstrap --generate-age-key` on a repository
// without keys writes a new key (0600) and commits a .sops.yaml for the
// path; in a clone, the person then adds a Secret from `capstan secret
// create --encrypt`, a secretGenerator over a .env that the real `sops
// --encrypt --in-place` encrypts, and a ConfigMap that `capstan secret
// encrypt --in-place` encrypts, each finding the recipient in that
// .sops.yaml; pushed and reconciled, the root Sync is Ready at the push and
// the cluster holds the plaintext values, the repository none of them.
func TestGenerateAgeKeyFlow(t *testing.T) {
	t.Parallel()
	tools, err := testenv.BuildSOPSTools(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	f := newFleet(t)
	tg := newTarget(t)
	keyFile := filepath.Join(t.TempDir(), "cluster.agekey")
	start := time.Now()
	r := capstan(t, f.env(), f.bootstrapArgs(tg.cluster.Kubeconfig, "--generate-age-key", keyFile)...)
	mustSucceed(t, "bootstrap --generate-age-key", r)
	t.Logf("bootstrap --generate-age-key took %s", time.Since(start).Round(time.Millisecond))
	recipient := publicKey(t, tools, keyFile)
	if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the key file: %v, %v; want mode 0600", err, st)
	}
	for _, want := range []string{recipient, "if you lose it, you lose the Secrets", "--age-key-file " + keyFile} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("bootstrap's stdout does not say %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "✓ Age key") || strings.Index(r.stderr, "✓ Age key") > strings.Index(r.stderr, "✓ Cluster") {
		t.Errorf("the key was not written before the Cluster step:\n%s", r.stderr)
	}
	key := &corev1.Secret{}
	if err := tg.admin.Get(t.Context(), client.ObjectKey{Namespace: manifests.Namespace, Name: repo.DecryptionSecret}, key); err != nil {
		t.Fatalf("the decryption Secret: %v", err)
	}
	if d := tg.rootSync(t).Spec.Decryption; d == nil || d.SecretRef.Name != repo.DecryptionSecret {
		t.Errorf("the root Sync decrypts with %+v, want %s", d, repo.DecryptionSecret)
	}

	clone := cloneFleet(t, f)
	cfg, err := os.ReadFile(filepath.Join(clone, repo.SOPSConfigFile))
	if err != nil || !bytes.Contains(cfg, []byte(recipient)) || !bytes.Contains(cfg, []byte("^clusters/e2e/")) {
		t.Fatalf("the committed %s (%v):\n%s", repo.SOPSConfigFile, err, cfg)
	}
	apps := filepath.Join(clone, "clusters", "e2e", "apps")
	created := runIn(t, apps, nil, "secret", "create", "db", "-n", "web", "--from-literal", "password="+createdPlaintext, "--encrypt")
	mustSucceed(t, "secret create --encrypt", created)
	writeIn(t, apps, "db.yaml", created.stdout)
	gen := filepath.Join(clone, "clusters", "e2e", "gen")
	writeIn(t, gen, "kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: web\nresources: [settings.yaml]\n"+
		"secretGenerator:\n- name: api\n  envs: [api.env]\ngeneratorOptions:\n  disableNameSuffixHash: true\n")
	writeIn(t, gen, "api.env", "TOKEN="+envPlaintext+"\nREGION=north\n")
	writeIn(t, gen, "settings.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  setting: "+cmPlaintext+"\n")
	sopsIn(t, tools, clone, keyFile, "--encrypt", "--in-place", "clusters/e2e/gen/api.env")
	mustSucceed(t, "secret encrypt --in-place", runIn(t, clone, nil, "secret", "encrypt", "--in-place", "clusters/e2e/gen/settings.yaml"))
	for file, plain := range map[string]string{"apps/db.yaml": createdPlaintext, "gen/api.env": envPlaintext, "gen/settings.yaml": cmPlaintext} {
		data, err := os.ReadFile(filepath.Join(clone, "clusters", "e2e", filepath.FromSlash(file)))
		if err != nil {
			t.Fatal(err)
		}
		recips, err := sops.Recipients(data, sops.FormatOf(file))
		if err != nil || len(recips) != 1 || recips[0] != recipient || bytes.Contains(data, []byte(plain)) {
			t.Fatalf("%s is not encrypted for the generated key alone (%v, %v):\n%s", file, recips, err, data)
		}
	}
	pushed := commitAndPush(t, f, clone, "encrypted secrets")

	mustSucceed(t, "reconcile", capstan(t, []string{"KUBECONFIG=" + tg.cluster.Kubeconfig}, "reconcile", repo.RootSyncName))
	if got := tg.rootSync(t).Status.LastAppliedRevision; got != "main@sha1:"+pushed {
		t.Fatalf("root Sync at %s, want the push %s", got, pushed)
	}
	for name, want := range map[string]map[string]string{"db": {"password": createdPlaintext}, "api": {"TOKEN": envPlaintext, "REGION": "north"}} {
		s := &corev1.Secret{}
		if err := tg.admin.Get(t.Context(), client.ObjectKey{Namespace: "web", Name: name}, s); err != nil {
			t.Fatalf("Secret web/%s: %v", name, err)
		}
		for k, v := range want {
			if got := string(s.Data[k]); got != v {
				t.Errorf("Secret web/%s %s = %q, want the plaintext", name, k, got)
			}
		}
	}
	if cm := tg.configMap(t, "web", "settings"); cm == nil || cm.Data["setting"] != cmPlaintext {
		t.Errorf("ConfigMap web/settings: %+v, want the plaintext setting", cm)
	}
	identity := ""
	if data, err := os.ReadFile(keyFile); err == nil {
		ids, err := sops.ParseIdentities(data)
		if err != nil {
			t.Fatal(err)
		}
		identity = fmt.Sprint(ids[0])
	}
	if !strings.HasPrefix(identity, "AGE-SECRET-KEY-1") {
		t.Fatal("no identity read from the key file")
	}
	hay := map[string]string{"bootstrap's output": r.stdout + r.stderr}
	collectCommits(t, f.srv.RepoDir(f.repo), hay)
	for where, text := range hay {
		for name, secret := range map[string]string{"created Secret's value": createdPlaintext, ".env value": envPlaintext, "ConfigMap value": cmPlaintext, "age identity": identity} {
			if strings.Contains(text, secret) {
				t.Errorf("%s holds the %s", where, name)
			}
		}
	}
}

// cloneFleet clones the fleet's main branch into a new directory.
func cloneFleet(t *testing.T, f *fleet) string {
	t.Helper()
	dir := t.TempDir()
	_, err := gogit.PlainClone(dir, false, &gogit.CloneOptions{URL: f.srv.HTTPURL(f.repo),
		Auth: &githttp.BasicAuth{Username: f.srv.Username(), Password: f.srv.Password()}})
	if err != nil {
		t.Fatalf("cloning the fleet: %v", err)
	}
	return dir
}

// commitAndPush commits every change of the clone and pushes it; it
// returns the new commit.
func commitAndPush(t *testing.T, f *fleet, dir, message string) string {
	t.Helper()
	r, err := gogit.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&gogit.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sha, err := wt.Commit(message, &gogit.CommitOptions{Author: &object.Signature{Name: "e2e", Email: "e2e@example.com", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Push(&gogit.PushOptions{Auth: &githttp.BasicAuth{Username: f.srv.Username(), Password: f.srv.Password()}}); err != nil {
		t.Fatalf("pushing: %v", err)
	}
	return sha.String()
}

// runIn runs the built binary in dir.
func runIn(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	return runBinaryIn(t, binary, dir, env, args...)
}

// sopsIn runs the real sops in dir, where it finds the .sops.yaml.
func sopsIn(t *testing.T, tools testenv.SOPSTools, dir, keyFile string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), tools.SOPS, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SOPS_AGE_KEY_FILE="+keyFile, "SOPS_AGE_KEY=", "SOPS_AGE_RECIPIENTS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sops %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func writeIn(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
