package apply

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

// crdKinds lists the kinds, with their served versions, that the
// CustomResourceDefinitions among objs define.
func crdKinds(objs []*unstructured.Unstructured) []schema.GroupVersionKind {
	var kinds []schema.GroupVersionKind
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" || o.GroupVersionKind().Group != "apiextensions.k8s.io" {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedSlice(o.Object, "spec", "versions")
		for _, v := range versions {
			m, ok := v.(map[string]any)
			if !ok || m["served"] != true {
				continue
			}
			if name, ok := m["name"].(string); ok && group != "" && kind != "" {
				kinds = append(kinds, schema.GroupVersionKind{Group: group, Version: name, Kind: kind})
			}
		}
	}
	return kinds
}

// waitMapped waits until the client's REST mapper resolves every kind the
// CRDs among objs define. A CRD is Established a moment before the API
// server's discovery lists its kinds, and a custom resource applied in that
// moment fails with "no matches for kind".
func (m *Manager) waitMapped(ctx context.Context, objs []*unstructured.Unstructured, timeout time.Duration) error {
	for _, gvk := range crdKinds(objs) {
		var last error
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
			_, last = m.c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
			if last != nil && !meta.IsNoMatchError(last) {
				return false, last
			}
			return last == nil, nil
		})
		if err != nil {
			if last == nil {
				last = err
			}
			return fmt.Errorf("waiting for the API server to serve %s: %w", gvk, last)
		}
	}
	return nil
}
