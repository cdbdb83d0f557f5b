package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

var namespaceGVK = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}

func unnamespacedConfigMap(name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  value: %q\n", name, value)
}

// TestTargetNamespace puts objects into spec.targetNamespace, creating the
// Namespace (in the inventory, pruned with it) when git does not declare
// it, and refuses an object of another namespace unless the mode is default.
func TestTargetNamespace(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	target := ns + "-staging"
	r := newRepo(t)
	t.Cleanup(func() { deleteNamespaces(t, target, ns+"-declared") })
	other := env.cluster.Namespace(t)
	rev1 := r.commit(t, map[string]string{"apps/a.yaml": unnamespacedConfigMap("a", "1"), "apps/same.yaml": configMap(target, "same", "1")})
	r.newSync(t, ns, "staging", func(s *capstanv1.SyncSpec) {
		s.Path = "apps"
		s.TargetNamespace = target
	})
	s := waitReady(t, ns, "staging", rev1)
	if get(t, configMapGVK, target, "a") == nil || get(t, configMapGVK, target, "same") == nil || get(t, namespaceGVK, "", target) == nil {
		t.Fatalf("objects not in the target namespace %s", target)
	}
	if !hasEntry(s, "Namespace", "", target) {
		t.Errorf("the created Namespace is not in the inventory: %+v", s.Status.Inventory)
	}

	// Another namespace in strict mode: refused, naming the file; nothing changes.
	rev2 := r.commit(t, map[string]string{"apps/b.yaml": configMap(other, "b", "1")})
	requestSync(t, ns, "staging")
	s = waitFailed(t, ns, "staging", capstanv1.BuildFailedReason)
	if msg := readyMessage(s); !strings.Contains(msg, "apps/b.yaml") || !strings.Contains(msg, other) || !strings.Contains(msg, rev2) {
		t.Errorf("refusal %q does not name apps/b.yaml, namespace %s and the revision", msg, other)
	}
	if get(t, configMapGVK, other, "b") != nil || s.Status.LastAppliedRevision != rev1 {
		t.Error("an object outside the target namespace was applied")
	}

	// Mode default: b keeps its namespace, a still goes to the target.
	patchSpec(t, ns, "staging", func(s *capstanv1.SyncSpec) { s.TargetNamespaceMode = capstanv1.TargetNamespaceDefault })
	waitReady(t, ns, "staging", rev2)
	if get(t, configMapGVK, other, "b") == nil || get(t, configMapGVK, target, "a") == nil {
		t.Error("mode default did not apply b to its own namespace and a to the target")
	}

	// A Namespace declared in git is used as it is.
	declared := ns + "-declared"
	rev3 := r.commit(t, map[string]string{
		"apps/b.yaml":    testenv.Delete,
		"apps/same.yaml": testenv.Delete,
		"apps/ns.yaml":   fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels: {from: git}\n", declared),
	})
	patchSpec(t, ns, "staging", func(s *capstanv1.SyncSpec) { s.TargetNamespace = declared; s.TargetNamespaceMode = "" })
	s = waitReady(t, ns, "staging", rev3)
	got := get(t, namespaceGVK, "", declared)
	if got == nil || got.GetLabels()["from"] != "git" || get(t, configMapGVK, declared, "a") == nil {
		t.Fatalf("the Namespace from git was not used: %v", got)
	}
	// The old target Namespace left the inventory and was pruned.
	if hasEntry(s, "Namespace", "", target) {
		t.Errorf("old target namespace still in the inventory")
	}
	if n := get(t, namespaceGVK, "", target); n != nil && n.GetDeletionTimestamp() == nil {
		t.Errorf("old target namespace %s was not pruned", target)
	}

	// A target Namespace that exists already, someone else's, is used and
	// never adopted: moving the target away leaves it and what it holds.
	foreign := env.cluster.Namespace(t)
	patchSpec(t, ns, "staging", func(s *capstanv1.SyncSpec) { s.TargetNamespace = foreign })
	s = waitSync(t, ns, "staging", 60*time.Second, func(s *capstanv1.Sync) bool {
		return isReady(s) && s.Status.ObservedGeneration == s.Generation && hasEntry(s, "ConfigMap", foreign, "a")
	})
	if hasEntry(s, "Namespace", "", foreign) {
		t.Errorf("the existing namespace %s was adopted into the inventory", foreign)
	}
	patchSpec(t, ns, "staging", func(s *capstanv1.SyncSpec) { s.TargetNamespace = declared })
	waitSync(t, ns, "staging", 60*time.Second, func(s *capstanv1.Sync) bool {
		return isReady(s) && s.Status.ObservedGeneration == s.Generation && hasEntry(s, "ConfigMap", declared, "a")
	})
	if n := get(t, namespaceGVK, "", foreign); n == nil || n.GetDeletionTimestamp() != nil {
		t.Errorf("the existing namespace %s was deleted when the target moved away", foreign)
	}
}

func hasEntry(s *capstanv1.Sync, kind, ns, name string) bool {
	if s.Status.Inventory == nil {
		return false
	}
	for _, e := range s.Status.Inventory.Entries {
		if e.Kind == kind && e.Namespace == ns && e.Name == name {
			return true
		}
	}
	return false
}

// patchSpec changes a Sync's spec.
func patchSpec(t *testing.T, ns, name string, mutate func(*capstanv1.SyncSpec)) {
	t.Helper()
	s := &capstanv1.Sync{}
	if err := env.admin.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		t.Fatalf("getting sync: %v", err)
	}
	patch := client.MergeFrom(s.DeepCopy())
	mutate(&s.Spec)
	if err := env.admin.Patch(t.Context(), s, patch); err != nil {
		t.Fatalf("patching sync: %v", err)
	}
}

func deleteNamespaces(t *testing.T, names ...string) {
	for _, n := range names {
		obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}
		if err := env.admin.Delete(context.Background(), obj); client.IgnoreNotFound(err) != nil {
			t.Logf("deleting namespace %s: %v", n, err)
		}
	}
}
