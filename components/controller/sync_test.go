package controller

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

func TestApplyChangeAndPrune(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	rev1 := r.commit(t, map[string]string{
		"apps/a.yaml":    configMap(ns, "a", "1"),
		"apps/b.yaml":    configMap(ns, "b", "1"),
		"apps/keep.yaml": configMap(ns, "keep", "1", capstanv1.PruneAnnotation, capstanv1.PruneDisabledValue),
		"README.md":      "not a manifest",
	})
	r.newSync(t, ns, "apps", func(s *capstanv1.SyncSpec) { s.Path = "apps" })
	s := waitReady(t, ns, "apps", rev1)
	if got := s.Status.LastRun; got == nil || got.Created != 3 {
		t.Fatalf("first run stats = %+v, want 3 created", got)
	}
	if n := len(s.Status.Inventory.Entries); n != 3 {
		t.Errorf("inventory has %d entries, want 3", n)
	}
	a := get(t, configMapGVK, ns, "a")
	if a.GetLabels()[capstanv1.SyncNameLabel] != "apps" || a.GetLabels()[capstanv1.SyncNamespaceLabel] != ns {
		t.Errorf("ownership labels missing: %v", a.GetLabels())
	}
	bVersion := get(t, configMapGVK, ns, "b").GetResourceVersion()

	rev2 := r.commit(t, map[string]string{"apps/a.yaml": configMap(ns, "a", "2")})
	requestSync(t, ns, "apps")
	s = waitReady(t, ns, "apps", rev2)
	if v, _, _ := unstructured.NestedString(get(t, configMapGVK, ns, "a").Object, "data", "value"); v != "2" {
		t.Errorf("a.data.value = %q, want 2", v)
	}
	if got := get(t, configMapGVK, ns, "b").GetResourceVersion(); got != bVersion {
		t.Errorf("unchanged object b was rewritten: resourceVersion %s -> %s", bVersion, got)
	}
	if st := s.Status.LastRun; st.Changed != 1 || st.Unchanged != 2 {
		t.Errorf("second run stats = %+v, want 1 changed, 2 unchanged", st)
	}

	rev3 := r.commit(t, map[string]string{"apps/b.yaml": testenv.Delete, "apps/keep.yaml": testenv.Delete})
	requestSync(t, ns, "apps")
	s = waitReady(t, ns, "apps", rev3)
	if get(t, configMapGVK, ns, "b") != nil {
		t.Error("b was not pruned after it left git")
	}
	if get(t, configMapGVK, ns, "keep") == nil {
		t.Error("keep was pruned despite capstan.dev/prune: disabled")
	}
	if n := len(s.Status.Inventory.Entries); n != 1 {
		t.Errorf("inventory has %d entries after prune, want 1", n)
	}
}

func TestEmptyBuildIsRefused(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	rev1 := r.commit(t, map[string]string{"apps/a.yaml": configMap(ns, "a", "1")})
	r.newSync(t, ns, "apps", func(s *capstanv1.SyncSpec) { s.Path = "apps" })
	waitReady(t, ns, "apps", rev1)

	r.commit(t, map[string]string{"apps/a.yaml": testenv.Delete, "apps/README.md": "moved elsewhere"})
	requestSync(t, ns, "apps")
	s := waitFailed(t, ns, "apps", capstanv1.BuildFailedReason)
	if !strings.Contains(readyMessage(s), "allowEmpty") {
		t.Errorf("message %q does not say how to allow an empty build", readyMessage(s))
	}
	if get(t, configMapGVK, ns, "a") == nil {
		t.Error("a was pruned by an empty build")
	}

	// A commit that removes the whole directory is refused too.
	r.commit(t, map[string]string{"apps": testenv.Delete})
	requestSync(t, ns, "apps")
	s = waitSync(t, ns, "apps", 30*time.Second, func(s *capstanv1.Sync) bool {
		return strings.Contains(readyMessage(s), "does not exist")
	})
	if get(t, configMapGVK, ns, "a") == nil {
		t.Error("a was pruned by an empty build")
	}
	if s.Status.LastAppliedRevision != rev1 {
		t.Errorf("lastAppliedRevision = %s, want %s", s.Status.LastAppliedRevision, rev1)
	}
}

func TestDriftIsRevertedAtInterval(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	rev := r.commit(t, map[string]string{"web.yaml": deployment(ns, "web", 2), "cm.yaml": configMap(ns, "cm", "git")})
	r.newSync(t, ns, "web", func(s *capstanv1.SyncSpec) { s.Interval = metav1.Duration{Duration: 2 * time.Second} })
	waitReady(t, ns, "web", rev)

	dep := get(t, deploymentGVK, ns, "web")
	_ = unstructured.SetNestedField(dep.Object, int64(5), "spec", "replicas")
	if err := env.admin.Update(t.Context(), dep); err != nil {
		t.Fatalf("scaling by hand: %v", err)
	}
	cm := get(t, configMapGVK, ns, "cm")
	_ = unstructured.SetNestedField(cm.Object, "edited", "data", "value")
	if err := env.admin.Update(t.Context(), cm); err != nil {
		t.Fatalf("editing by hand: %v", err)
	}
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		r, _, _ := unstructured.NestedInt64(get(t, deploymentGVK, ns, "web").Object, "spec", "replicas")
		v, _, _ := unstructured.NestedString(get(t, configMapGVK, ns, "cm").Object, "data", "value")
		return r == 2 && v == "git", nil
	})
	if err != nil {
		t.Fatalf("hand edits were not reverted: %v", err)
	}
	s := waitSync(t, ns, "web", 30*time.Second, func(s *capstanv1.Sync) bool { return s.Status.LastRun != nil && s.Status.LastRun.Drifted > 0 })
	t.Logf("drift reported: %+v", *s.Status.LastRun)
}

func TestDeploymentIsWaitedUntilAvailable(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	rev := r.commit(t, map[string]string{"web.yaml": deployment(ns, "web", 3)})
	r.newSync(t, ns, "web", nil)
	waitReady(t, ns, "web", rev)
	dep := get(t, deploymentGVK, ns, "web")
	if avail, _, _ := unstructured.NestedInt64(dep.Object, "status", "availableReplicas"); avail != 3 {
		t.Errorf("Sync Ready while deployment has %d/3 available replicas", avail)
	}
}

func TestCRDAndCustomResourceInOneRevision(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	group := strings.ReplaceAll(ns, "-", "") + ".example.com"
	crd := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.` + group + `
spec:
  group: ` + group + `
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`
	cr := "apiVersion: " + group + "/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: " + ns + "\nspec:\n  size: 3\n"
	rev := r.commit(t, map[string]string{"crd.yaml": crd, "widget.yaml": cr})
	r.newSync(t, ns, "widgets", nil)
	waitReady(t, ns, "widgets", rev)
	w := get(t, schemaGVK(group, "v1", "Widget"), ns, "w")
	if size, _, _ := unstructured.NestedInt64(w.Object, "spec", "size"); size != 3 {
		t.Errorf("widget size = %d, want 3", size)
	}
	t.Cleanup(func() {
		crdObj := &unstructured.Unstructured{}
		crdObj.SetGroupVersionKind(schemaGVK("apiextensions.k8s.io", "v1", "CustomResourceDefinition"))
		crdObj.SetName("widgets." + group)
		_ = env.admin.Delete(context.Background(), crdObj)
	})
}

func TestKustomizeOverlay(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	rev := r.commit(t, map[string]string{
		"base/kustomization.yaml":    "resources:\n- cm.yaml\n",
		"base/cm.yaml":               configMap(ns, "settings", "base"),
		"overlay/kustomization.yaml": "resources:\n- ../base\nnamePrefix: prod-\npatches:\n- patch: |-\n    - op: replace\n      path: /data/value\n      value: prod\n  target:\n    kind: ConfigMap\n",
	})
	r.newSync(t, ns, "overlay", func(s *capstanv1.SyncSpec) { s.Path = "overlay" })
	waitReady(t, ns, "overlay", rev)
	cm := get(t, configMapGVK, ns, "prod-settings")
	if cm == nil {
		t.Fatal("overlay ConfigMap prod-settings not applied")
	}
	if v, _, _ := unstructured.NestedString(cm.Object, "data", "value"); v != "prod" {
		t.Errorf("value = %q, want prod", v)
	}
}

func TestSyncThatAppliesItselfChangesItsOwnSpec(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	self := func(interval string) string {
		return "apiVersion: capstan.dev/v1\nkind: Sync\nmetadata:\n  name: root\n  namespace: " + ns +
			"\nspec:\n  url: " + r.srv.HTTPURL(r.name) + "\n  interval: " + interval + "\n  secretRef:\n    name: git-http\n"
	}
	rev1 := r.commit(t, map[string]string{"sync.yaml": self("1h"), "a.yaml": configMap(ns, "a", "1")})
	r.newSync(t, ns, "root", nil)
	waitReady(t, ns, "root", rev1)

	// A commit that changes the Sync's own spec: its new generation must not
	// make it wait for its own health until the timeout.
	rev2 := r.commit(t, map[string]string{"sync.yaml": self("30m")})
	requestSync(t, ns, "root")
	start := time.Now()
	s := waitSync(t, ns, "root", 30*time.Second, func(s *capstanv1.Sync) bool {
		return s.Status.LastAppliedRevision == rev2 && isReady(s)
	})
	if s.Spec.Interval.Duration != 30*time.Minute {
		t.Errorf("interval = %s, want the committed 30m", s.Spec.Interval.Duration)
	}
	t.Logf("self-update Ready after %s", time.Since(start).Round(time.Millisecond))
}
