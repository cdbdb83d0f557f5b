package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/components/repo"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// envFiles are one application with a base and two overlays: staging
// follows main, production the newest tag >= 1.0.0 with the image tagged
// from ${CAPSTAN_TAG}.
func envFiles() map[string]string {
	const kust = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
	return map[string]string{
		"apps/app/base/kustomization.yaml": kust + "resources:\n- deployment.yaml\n- config.yaml\n",
		"apps/app/base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 1
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:latest
`,
		"apps/app/base/config.yaml":                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  greeting: hello\n",
		"apps/app/overlays/staging/kustomization.yaml": kust + "resources:\n- ../../base\n",
		"apps/app/overlays/prod/kustomization.yaml":    kust + "resources:\n- ../../base\npatches:\n- path: image.yaml\n",
		"apps/app/overlays/prod/image.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
      - name: app
        image: registry.example.com/app:${CAPSTAN_TAG}
        env:
        - name: ENVIRONMENT
          value: ${ENVIRONMENT}
        - name: API_TOKEN
          value: ${API_TOKEN:=none}
`,
	}
}

// TestEnvironmentsFromOneRepository is the two-environment exercise with
// the built binary: Syncs made with `capstan create sync --export` and
// committed as printed, a commit to main that changes staging only, tags
// that move production (a release candidate ignored, a deleted tag going
// back and pruning), then a new cluster bootstrapped to the same revisions
// without a commit.
func TestEnvironmentsFromOneRepository(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "fleet")
	url := srv.HTTPURL("fleet")
	staging := capstan(t, nil, "create", "sync", "--export", "--url", url, "--branch", "main", "--path", "apps/app/overlays/staging",
		"--target-namespace", "staging", "--secret-ref", repo.CredentialsSecret, "--interval", "1h", "staging")
	mustSucceed(t, "create sync staging --export", staging)
	prod := capstan(t, nil, "create", "sync", "--export", "--url", url, "--semver", ">=1.0.0", "--path", "apps/app/overlays/prod",
		"--target-namespace", "production", "--substitute", "ENVIRONMENT=production", "--substitute-from", "secret/app-secrets?", "--secret-ref", repo.CredentialsSecret,
		"--interval", "1h", "production")
	mustSucceed(t, "create sync production --export", prod)
	files := envFiles()
	files["clusters/e2e/staging.yaml"] = staging.stdout
	files["clusters/e2e/production.yaml"] = prod.stdout
	v1 := srv.Commit(t, "fleet", "main", files, "app with staging and production")
	srv.Tag(t, "fleet", "v1.0.0", v1, "release 1.0.0")
	f := &fleet{srv: srv, repo: "fleet"}

	first := newTarget(t)
	mustSucceed(t, "bootstrap", capstan(t, f.env(), f.bootstrapArgs(first.cluster.Kubeconfig)...))
	run := func(args ...string) result {
		return capstan(t, append(f.env(), "KUBECONFIG="+first.cluster.Kubeconfig), args...)
	}
	head := f.head(t)
	mustSucceed(t, "reconcile staging", run("reconcile", "staging"))
	waitSyncReady(t, first.admin, manifests.Namespace, "staging", "main@sha1:"+head, 2*time.Minute)
	waitSyncReady(t, first.admin, manifests.Namespace, "production", "v1.0.0@sha1:"+v1, 2*time.Minute)
	assertImage(t, first.admin, "staging", "registry.example.com/app:latest")
	assertImage(t, first.admin, "production", "registry.example.com/app:v1.0.0")

	// A commit to main changes staging only.
	next := srv.Commit(t, "fleet", "main", map[string]string{"apps/app/base/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  greeting: hi\n"}, "greet shorter")
	mustSucceed(t, "reconcile staging", run("reconcile", "staging"))
	mustSucceed(t, "reconcile production", run("reconcile", "production"))
	waitSyncReady(t, first.admin, manifests.Namespace, "staging", "main@sha1:"+next, time.Minute)
	waitSyncReady(t, first.admin, manifests.Namespace, "production", "v1.0.0@sha1:"+v1, time.Minute)
	if g := first.configMap(t, "staging", "app-config").Data["greeting"]; g != "hi" {
		t.Errorf("staging greeting = %q, want hi", g)
	}
	if g := first.configMap(t, "production", "app-config").Data["greeting"]; g != "hello" {
		t.Errorf("production changed with a commit to main: greeting %q", g)
	}

	// A release candidate is ignored; the release is applied.
	rc := srv.Commit(t, "fleet", "main", map[string]string{"apps/app/overlays/prod/feature.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: feature\ndata:\n  on: \"yes\"\n",
		"apps/app/overlays/prod/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../base\n- feature.yaml\npatches:\n- path: image.yaml\n"}, "a feature")
	srv.Tag(t, "fleet", "v1.1.0-rc.1", rc, "")
	mustSucceed(t, "reconcile production", run("reconcile", "production"))
	waitSyncReady(t, first.admin, manifests.Namespace, "production", "v1.0.0@sha1:"+v1, time.Minute)
	srv.Tag(t, "fleet", "v1.1.0", rc, "release 1.1.0")
	mustSucceed(t, "reconcile production", run("reconcile", "production"))
	waitSyncReady(t, first.admin, manifests.Namespace, "production", "v1.1.0@sha1:"+rc, time.Minute)
	assertImage(t, first.admin, "production", "registry.example.com/app:v1.1.0")
	if first.configMap(t, "production", "feature") == nil {
		t.Error("v1.1.0's feature ConfigMap was not applied")
	}

	// The tag deleted: back to v1.0.0, and what only v1.1.0 declared is pruned.
	srv.DeleteTag(t, "fleet", "v1.1.0")
	mustSucceed(t, "reconcile production", run("reconcile", "production"))
	waitSyncReady(t, first.admin, manifests.Namespace, "production", "v1.0.0@sha1:"+v1, time.Minute)
	assertImage(t, first.admin, "production", "registry.example.com/app:v1.0.0")
	if first.configMap(t, "production", "feature") != nil {
		t.Error("the feature ConfigMap only v1.1.0 declared was not pruned")
	}

	pushed := f.head(t)
	// capstan diff renders with the same variables: no differences; then a
	// Secret's value shows masked, reaches the object, and nothing else.
	if r := run("diff", "production"); r.code != 0 || !strings.Contains(r.stderr, "no differences") {
		t.Errorf("diff production on a synced cluster: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	const token = "tok-e2e-4f9a7c2d1b"
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: manifests.Namespace, Name: "app-secrets"}, StringData: map[string]string{"API_TOKEN": token}}
	if err := first.admin.Create(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	r := run("diff", "production")
	if r.code != 1 || !strings.Contains(r.stdout, "***") || strings.Contains(r.stdout+r.stderr, token) {
		t.Errorf("diff with a Secret variable: exit %d, want 1 with the value masked:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run("reconcile", "production")
	mustSucceed(t, "reconcile production", r)
	dep := &appsv1.Deployment{}
	if err := first.admin.Get(t.Context(), client.ObjectKey{Namespace: "production", Name: "app"}, dep); err != nil {
		t.Fatal(err)
	}
	if env := dep.Spec.Template.Spec.Containers[0].Env; len(env) != 2 || env[0].Value != "production" || env[1].Value != token {
		t.Errorf("production env = %+v, want ENVIRONMENT=production and the token", env)
	}
	st := run("status", "production")
	mustSucceed(t, "status production", st)
	if strings.Contains(r.stdout+r.stderr+st.stdout+st.stderr, token) || !strings.Contains(st.stdout, "newest seen v1.1.0-rc.1") {
		t.Errorf("status or reconcile output shows the token, or not the newest tag:\n%s", st.stdout)
	}
	s := &capstanv1.Sync{}
	if err := first.admin.Get(t.Context(), client.ObjectKey{Namespace: manifests.Namespace, Name: "production"}, s); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(s); strings.Contains(string(b), token) {
		t.Error("the production Sync holds the token")
	}

	// create sync without --export applies it, waits, and says it is not in git.
	r = run("create", "sync", "--url", url, "--branch", "main", "--path", "apps/app/overlays/staging", "--target-namespace", "scratch",
		"--secret-ref", repo.CredentialsSecret, "scratch")
	mustSucceed(t, "create sync scratch", r)
	if !strings.Contains(r.stderr, "it is not in git") || !strings.Contains(r.stdout, "✓ capstan-system/scratch applied revision main@sha1:"+pushed) {
		t.Errorf("create sync without --export:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	assertImage(t, first.admin, "scratch", "registry.example.com/app:latest")

	// A new cluster from the same repository: the same revisions, no commit.
	second := newTarget(t)
	mustSucceed(t, "recovery bootstrap", capstan(t, f.env(), f.bootstrapArgs(second.cluster.Kubeconfig)...))
	if f.head(t) != pushed {
		t.Error("the recovery bootstrap made a commit")
	}
	waitSyncReady(t, second.admin, manifests.Namespace, "staging", "main@sha1:"+pushed, 2*time.Minute)
	waitSyncReady(t, second.admin, manifests.Namespace, "production", "v1.0.0@sha1:"+v1, 2*time.Minute)
	assertImage(t, second.admin, "production", "registry.example.com/app:v1.0.0")
	assertImage(t, second.admin, "staging", "registry.example.com/app:latest")
}

func assertImage(t *testing.T, c client.Client, ns, want string) {
	t.Helper()
	dep := &appsv1.Deployment{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "app"}, dep); err != nil {
		t.Fatalf("reading deployment %s/app: %v", ns, err)
	}
	if got := dep.Spec.Template.Spec.Containers[0].Image; got != want {
		t.Errorf("%s image = %s, want %s", ns, got, want)
	}
}
