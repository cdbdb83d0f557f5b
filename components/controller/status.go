package controller

import (
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/apply"
)

func setCondition(s *capstanv1.Sync, typ string, status metav1.ConditionStatus, reason, msg string) {
	apimeta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: s.Generation,
	})
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
