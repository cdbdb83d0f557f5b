package faults

import (
	"context"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// holdFinalizer is a finalizer nothing clears but the test.
const holdFinalizer = "faults.capstan.dev/hold"

// TestPruneDenied removes two objects from git whose deletion cannot
// happen: "held" carries a finalizer that never clears, and deleting
// "guarded" is refused by a ValidatingAdmissionPolicy (CEL, DELETE).
//
// Expected: the prune tries both and reports PruneFailed, naming them; each
// stays in the inventory and lastAppliedRevision stays at the last good
// revision, so nothing is forgotten; the controller retries on its own. When
// the finalizer is removed by hand and then the policy is deleted, the
// retries (no commit, no reconcile request) complete the prune, and only the
// object still in git remains, unchanged.
func TestPruneDenied(t *testing.T) {
	t.Parallel()
	e := shared.get(t)
	ns := e.cluster.Namespace(t)
	r := newRepo(t)
	held := strings.Replace(configMap(ns, "held", "1"), "\n  labels:", "\n  finalizers: ["+holdFinalizer+"]\n  labels:", 1)
	rev1 := r.commit(t, "three objects", map[string]string{
		"keep.yaml": configMap(ns, "keep", "1"), "held.yaml": held, "guarded.yaml": configMap(ns, "guarded", "1"),
	})
	r.newSync(t, e.admin, ns, "apps", nil)
	waitSync(t, e.admin, ns, "apps", time.Minute, readyAt(rev1))
	keep := getConfigMap(t, e.admin, ns, "keep").ResourceVersion
	t.Cleanup(func() { releaseFinalizer(t, e.admin, ns, "held") })
	denyDeletes(t, e.admin, ns, "guarded")

	r.commit(t, "remove held and guarded", map[string]string{"held.yaml": testenv.Delete, "guarded.yaml": testenv.Delete})
	requestSync(t, e.admin, ns, "apps")
	s := waitSync(t, e.admin, ns, "apps", time.Minute, failedWith(capstanv1.PruneFailedReason))
	t.Logf("denied prune reported: %s", readyMessage(s))
	if msg := readyMessage(s); !strings.Contains(msg, "2 of 2") || !strings.Contains(msg, "held") && !strings.Contains(msg, "guarded") {
		t.Errorf("the message %q does not say which prunes failed", msg)
	}
	time.Sleep(3 * time.Second) // a few retries
	s = getSync(t, e.admin, ns, "apps")
	if s.Status.LastAppliedRevision != rev1 {
		t.Errorf("lastAppliedRevision = %s while the prune fails, want %s", s.Status.LastAppliedRevision, rev1)
	}
	all := map[string]bool{key("ConfigMap", ns, "keep"): true, key("ConfigMap", ns, "held"): true, key("ConfigMap", ns, "guarded"): true}
	checkInventory(t, s, all)
	if cm := getConfigMap(t, e.admin, ns, "held"); cm == nil || cm.DeletionTimestamp == nil {
		t.Errorf("held should be terminating, held by its finalizer: %+v", cm)
	}
	if cm := getConfigMap(t, e.admin, ns, "guarded"); cm == nil || cm.DeletionTimestamp != nil {
		t.Errorf("guarded should be untouched, its deletion denied: %+v", cm)
	}

	releaseFinalizer(t, e.admin, ns, "held")
	s = waitSync(t, e.admin, ns, "apps", time.Minute, func(s *capstanv1.Sync) bool {
		return failedWith(capstanv1.PruneFailedReason)(s) && strings.Contains(readyMessage(s), "1 of 2")
	})
	checkInventory(t, s, map[string]bool{key("ConfigMap", ns, "keep"): true, key("ConfigMap", ns, "guarded"): true})

	allowDeletes(t, e.admin, ns)
	rev2 := s.Status.LastAttemptedRevision
	s = waitSync(t, e.admin, ns, "apps", time.Minute, readyAt(rev2))
	checkInventory(t, s, map[string]bool{key("ConfigMap", ns, "keep"): true})
	for _, name := range []string{"held", "guarded"} {
		if getConfigMap(t, e.admin, ns, name) != nil {
			t.Errorf("%s still exists after the prune was allowed", name)
		}
	}
	if got := getConfigMap(t, e.admin, ns, "keep").ResourceVersion; got != keep {
		t.Errorf("keep was written during the failed prunes: resourceVersion %s -> %s", keep, got)
	}
}

// denyDeletes refuses every DELETE of ConfigMap name in ns with a
// ValidatingAdmissionPolicy and its binding, and waits until the API server
// enforces it.
func denyDeletes(t *testing.T, c client.Client, ns, name string) {
	t.Helper()
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "faults-deny-delete-" + ns},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Delete},
					Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
				},
			}}},
			Validations: []admissionv1.Validation{{
				Expression: "oldObject.metadata.name != '" + name + "'",
				Message:    "the test forbids deleting " + name,
			}},
		},
	}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: policy.Name},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        policy.Name,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns},
			}},
		},
	}
	for _, o := range []client.Object{policy, binding} {
		if err := c.Create(t.Context(), o); err != nil {
			t.Fatalf("creating %s: %v", o.GetName(), err)
		}
	}
	t.Cleanup(func() { allowDeletes(t, c, ns) })
	probe := getConfigMap(t, c, ns, name)
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := c.Delete(ctx, probe, client.DryRunAll)
		return apierrors.IsForbidden(err) || apierrors.IsInvalid(err), nil
	})
	if err != nil {
		t.Fatalf("the admission policy is not enforced: %v", err)
	}
}

// allowDeletes removes the policy and binding of denyDeletes.
func allowDeletes(t *testing.T, c client.Client, ns string) {
	t.Helper()
	name := "faults-deny-delete-" + ns
	ctx := context.WithoutCancel(t.Context())
	_ = c.Delete(ctx, &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: name}})
	_ = c.Delete(ctx, &admissionv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}})
}

// releaseFinalizer removes the test's finalizer from ConfigMap name.
func releaseFinalizer(t *testing.T, c client.Client, ns, name string) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	patch := []byte(`{"metadata":{"finalizers":null}}`)
	obj := &metav1.PartialObjectMetadata{}
	obj.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
	obj.SetNamespace(ns)
	obj.SetName(name)
	if err := c.Patch(ctx, obj, client.RawPatch("application/merge-patch+json", patch)); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("removing the finalizer of %s: %v", name, err)
	}
}
