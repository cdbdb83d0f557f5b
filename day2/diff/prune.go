package diff

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/apply"
)

// prunable returns the objects of the Sync's inventory that left desired
// and that the controller's prune would delete: still there, still labelled
// as the Sync's, not opted out and not part of Capstan's installation.
func prunable(ctx context.Context, c client.Client, s *capstanv1.Sync, desired []apply.Ref) ([]apply.Ref, error) {
	labels := owner(s).Labels
	var out []apply.Ref
	for _, ref := range apply.InventoryOf(s.Status.Inventory).Stale(apply.NewInventory(desired)) {
		if protected(ref) {
			continue
		}
		live := &metav1.PartialObjectMetadata{}
		live.SetGroupVersionKind(ref.GVK())
		err := c.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, live)
		switch {
		case apierrors.IsNotFound(err), apimeta.IsNoMatchError(err):
			continue
		case err != nil:
			return nil, fmt.Errorf("reading %s: %w", ref, err)
		}
		if live.GetAnnotations()[capstanv1.PruneAnnotation] == capstanv1.PruneDisabledValue || !hasLabels(live, labels) {
			continue
		}
		out = append(out, ref)
	}
	return out, nil
}

func hasLabels(o metav1.Object, labels map[string]string) bool {
	for k, v := range labels {
		if o.GetLabels()[k] != v {
			return false
		}
	}
	return true
}

// protected reports Capstan's own installation, which the controller never
// prunes (see manifests.IsProtected).
func protected(r apply.Ref) bool {
	return manifests.IsProtected(manifests.Namespace, r.Group, r.Kind, r.Namespace, r.Name)
}
