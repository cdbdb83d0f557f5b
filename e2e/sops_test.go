package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// TestSOPSCourseFlow is the course's flow with the real tools: age-keygen
// makes a key, sops encrypts a Secret with encrypted_regex, it is
// committed; bootstrap without the key refuses before the cluster is
// reached, naming the file and the recipient, and changes nothing;
// bootstrap with --age-key-file applies the plaintext; a rebuilt cluster
// with the same key (from SOPS_AGE_KEY_FILE) gets the Secret back without
// a new commit.
func TestSOPSCourseFlow(t *testing.T) {
	t.Parallel()
	tools := testenv.SOPSToolsForTest(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "age.key")
	if out, err := exec.CommandContext(t.Context(), tools.AgeKeygen, "-o", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("age-keygen: %v\n%s", err, out)
	}
	recipient := publicKey(t, tools, keyFile)
	plain := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: web\nstringData:\n  password: " + sopsPlaintext + "\n"
	if err := os.WriteFile(filepath.Join(dir, "db.yaml"), []byte(plain), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), tools.SOPS, "--encrypt", "--age", recipient, "--encrypted-regex", "^(data|stringData)$", "db.yaml")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	enc, err := cmd.Output()
	if err != nil {
		t.Fatalf("sops --encrypt: %v\n%s", err, stderr.String())
	}
	f := newFleet(t)
	f.srv.Commit(t, f.repo, "main", map[string]string{"clusters/e2e/apps/db.yaml": string(enc)}, "an encrypted secret")

	first := newTarget(t)
	head := f.head(t)
	r := capstan(t, f.env(), f.bootstrapArgs(first.cluster.Kubeconfig)...)
	if r.code == 0 {
		t.Fatal("bootstrap without a key succeeded")
	}
	for _, want := range []string{"clusters/e2e/apps/db.yaml", recipient, "--age-key-file"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the refusal does not name %q:\n%s", want, r.stderr)
		}
	}
	if f.head(t) != head {
		t.Error("the refused bootstrap made a commit")
	}
	if !strings.Contains(r.stderr, "✗ Repository") || strings.Contains(r.stderr, "Cluster") {
		t.Errorf("the refusal is not the first step's, before the cluster:\n%s", r.stderr)
	}
	if err := first.admin.Get(t.Context(), client.ObjectKey{Name: manifests.Namespace}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
		t.Errorf("the refused bootstrap touched the cluster: namespace %s: %v", manifests.Namespace, err)
	}

	mustSucceed(t, "bootstrap with the key", capstan(t, f.env(), f.bootstrapArgs(first.cluster.Kubeconfig, "--age-key-file", keyFile)...))
	assertSOPSDecrypted(t, first.admin)
	head = f.head(t)

	second := newTarget(t)
	mustSucceed(t, "rebuild with the same key", capstan(t, append(f.env(), "SOPS_AGE_KEY_FILE="+keyFile), f.bootstrapArgs(second.cluster.Kubeconfig)...))
	if f.head(t) != head {
		t.Error("the rebuild made a commit")
	}
	assertSOPSDecrypted(t, second.admin)
	s := &corev1.Secret{}
	if err := second.admin.Get(t.Context(), client.ObjectKey{Namespace: "capstan-system", Name: "capstan-sops"}, s); err != nil || len(s.Data["age.agekey"]) == 0 {
		t.Errorf("the decryption Secret: %v", err)
	}
}

// publicKey is the recipient of an age key file, as age-keygen -y prints it.
func publicKey(t *testing.T, tools testenv.SOPSTools, keyFile string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), tools.AgeKeygen, "-y", keyFile).Output()
	if err != nil {
		t.Fatalf("age-keygen -y: %v", err)
	}
	return strings.TrimSpace(string(out))
}
