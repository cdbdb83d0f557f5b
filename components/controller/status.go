package controller

import (
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-gitops/capstan/components/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/apply"
)

func setCondition(s *capstanv1.Sync, typ string, status metav1.ConditionStatus, reason, msg string) {
	apimeta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: s.Generation,
	})
}

func inventoryRefs(s *capstanv1.Sync) []apply.Ref {
	if s.Status.Inventory == nil {
		return nil
	}
	refs := make([]apply.Ref, 0, len(s.Status.Inventory.Entries))
	for _, e := range s.Status.Inventory.Entries {
		refs = append(refs, apply.Ref{Group: e.Group, Version: e.Version, Kind: e.Kind, Namespace: e.Namespace, Name: e.Name})
	}
	return refs
}

func toInventory(refs []apply.Ref) *capstanv1.Inventory {
	if len(refs) == 0 {
		return nil
	}
	apply.SortRefs(refs)
	inv := &capstanv1.Inventory{Entries: make([]capstanv1.InventoryEntry, 0, len(refs))}
	for _, r := range refs {
		inv.Entries = append(inv.Entries, capstanv1.InventoryEntry{Group: r.Group, Version: r.Version, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name})
	}
	return inv
}

// union returns the references in a or b, once each; b's version wins.
func union(a, b []apply.Ref) []apply.Ref {
	out := make([]apply.Ref, 0, len(a)+len(b))
	out = append(out, apply.Stale(a, b)...)
	return append(out, b...)
}

func appliedRefs(res apply.Result) []apply.Ref {
	refs := make([]apply.Ref, 0, len(res.Changes))
	for _, c := range res.Changes {
		refs = append(refs, c.Ref)
	}
	return refs
}

// pruneOptions protect Capstan's own installation: only `capstan uninstall`
// removes it, whatever a commit deletes.
func pruneOptions() apply.PruneOptions {
	return apply.PruneOptions{
		Protected:        protectedSet(manifests.Namespace),
		OptOutAnnotation: capstanv1.PruneAnnotation,
		OptOutValue:      capstanv1.PruneDisabledValue,
	}
}

// protectedSet reports Capstan's own installation in namespace ns.
func protectedSet(ns string) func(apply.Ref) bool {
	return func(r apply.Ref) bool { return manifests.IsProtected(ns, r.Group, r.Kind, r.Namespace, r.Name) }
}
