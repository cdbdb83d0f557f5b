package postbuild

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// TargetNamespace returns the Namespace object to apply with objs for
// s.spec.targetNamespace, or nil: when there is no target, when objs
// declare it, or when it is the Sync's own namespace (which exists as long
// as the Sync does, and whose pruning would delete the Sync).
func TargetNamespace(s *capstanv1.Sync, objs []*unstructured.Unstructured) *unstructured.Unstructured {
	target := s.Spec.TargetNamespace
	if target == "" || target == s.Namespace {
		return nil
	}
	for _, o := range objs {
		if o.GetAPIVersion() == "v1" && o.GetKind() == "Namespace" && o.GetName() == target {
			return nil
		}
	}
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(target)
	return ns
}
