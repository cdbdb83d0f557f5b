// Package apply puts a set of Kubernetes objects into a cluster the way
// Capstan's controller and CLI both need it: staged server-side apply with a
// dry run of each stage first, a health wait, and a prune that deletes only
// what its owner created and nobody protected.
package apply

import (
	"fmt"
	"sort"

	"github.com/fluxcd/cli-utils/pkg/object"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Ref identifies one object in the cluster.
type Ref struct {
	Group     string `json:"group"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// RefOf returns the reference of an object.
func RefOf(o *unstructured.Unstructured) Ref {
	gvk := o.GroupVersionKind()
	return Ref{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: o.GetNamespace(), Name: o.GetName()}
}

// GVK returns the group, version and kind of the reference.
func (r Ref) GVK() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// key identifies the object regardless of the API version it was served at.
func (r Ref) key() Ref {
	r.Version = ""
	return r
}

// String formats the reference as Kind/namespace/name.
func (r Ref) String() string {
	if r.Namespace == "" {
		return fmt.Sprintf("%s/%s", r.Kind, r.Name)
	}
	return fmt.Sprintf("%s/%s/%s", r.Kind, r.Namespace, r.Name)
}

func (r Ref) objMetadata() object.ObjMetadata {
	return object.ObjMetadata{Namespace: r.Namespace, Name: r.Name, GroupKind: schema.GroupKind{Group: r.Group, Kind: r.Kind}}
}

func (r Ref) unstructured() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(r.GVK())
	u.SetNamespace(r.Namespace)
	u.SetName(r.Name)
	return u
}

// Refs returns the references of objects, sorted.
func Refs(objs []*unstructured.Unstructured) []Ref {
	refs := make([]Ref, 0, len(objs))
	for _, o := range objs {
		refs = append(refs, RefOf(o))
	}
	SortRefs(refs)
	return refs
}

// SortRefs sorts references by group, kind, namespace and name.
func SortRefs(refs []Ref) {
	sort.Slice(refs, func(i, j int) bool {
		a, b := refs[i], refs[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
}
