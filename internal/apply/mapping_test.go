package apply

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestCRDKinds(t *testing.T) {
	t.Parallel()
	crd := func(group string, versions ...any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": "backups." + group},
			"spec":     map[string]any{"group": group, "names": map[string]any{"kind": "Backup"}, "versions": versions},
		}}
	}
	version := func(name string, served bool) any { return map[string]any{"name": name, "served": served} }
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}}
	tests := []struct {
		name string
		objs []*unstructured.Unstructured
		want []schema.GroupVersionKind
	}{
		{"no CRD", []*unstructured.Unstructured{cm}, nil},
		{"served versions only", []*unstructured.Unstructured{crd("dwk.dev", version("v1", true), version("v1beta1", false))},
			[]schema.GroupVersionKind{{Group: "dwk.dev", Version: "v1", Kind: "Backup"}}},
		{"two versions", []*unstructured.Unstructured{cm, crd("x.io", version("v1", true), version("v2", true))},
			[]schema.GroupVersionKind{{Group: "x.io", Version: "v1", Kind: "Backup"}, {Group: "x.io", Version: "v2", Kind: "Backup"}}},
		{"malformed versions", []*unstructured.Unstructured{crd("x.io", "v1")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, crdKinds(tt.objs)); diff != "" {
				t.Errorf("crdKinds (-want +got):\n%s", diff)
			}
		})
	}
}
