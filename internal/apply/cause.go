package apply

import (
	"context"
	"fmt"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/internal/podrefs"
	"github.com/capstan-gitops/capstan/internal/podstatus"
)

// Cause names why the first workload among refs that is not Current cannot
// become ready, as its pods say: "Deployment web/app: ImagePullBackOff".
// It is empty when no pod of such a workload is in trouble or the cluster
// cannot be read; it is a hint for a person, so errors are not returned.
func (m *Manager) Cause(ctx context.Context, refs []Ref) string {
	for _, r := range refs {
		if podrefs.SpecPath(r.Group, r.Kind) == nil || r.Kind == "Pod" {
			continue
		}
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(r.GVK())
		if err := m.c.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: r.Name}, live); err != nil {
			continue
		}
		if res, err := status.Compute(live); err == nil && res.Status == status.CurrentStatus {
			continue
		}
		if reason := m.podTrouble(ctx, live); reason != "" {
			return fmt.Sprintf("%s %s/%s: %s", r.Kind, r.Namespace, r.Name, reason)
		}
	}
	return ""
}

// podTrouble is the reason the first troubled pod of workload gives.
func (m *Manager) podTrouble(ctx context.Context, workload *unstructured.Unstructured) string {
	sel, found, _ := unstructured.NestedStringMap(workload.Object, "spec", "selector", "matchLabels")
	if !found || len(sel) == 0 {
		return ""
	}
	pods := &corev1.PodList{}
	if err := m.c.List(ctx, pods, client.InNamespace(workload.GetNamespace()), client.MatchingLabels(sel)); err != nil {
		return ""
	}
	for i := range pods.Items {
		if reason, _, bad := podstatus.Trouble(&pods.Items[i]); bad {
			return reason
		}
	}
	return ""
}
