package drill

import (
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/build"
)

// Bounds of what the drill reads from the clone for its diagnosis.
const (
	maxSyncs     = 200
	maxIndexed   = 5000
	maxIndexSize = 1 << 20
)

// staticSync is a Sync git declares and what its path builds to, read from
// the clone the way the controller builds it.
type staticSync struct {
	Namespace, Name, Path string
	Objects               []*unstructured.Unstructured
	// Sources[i] is where Objects[i] is defined.
	Sources []build.Source
	// Other is true for a Sync of another repository or ref: the drill
	// does not read it.
	Other bool
	// Err is why its path did not build; the controller reports the same.
	Err error
}

// Key returns namespace/name.
func (s staticSync) Key() string { return s.Namespace + "/" + s.Name }

// objectID names an object regardless of its API version.
type objectID struct{ Group, Kind, Namespace, Name string }

func idOf(o *unstructured.Unstructured) objectID {
	gvk := o.GroupVersionKind()
	return objectID{Group: gvk.Group, Kind: gvk.Kind, Namespace: o.GetNamespace(), Name: o.GetName()}
}

// String formats the id as "Kind namespace/name" or "Kind name".
func (id objectID) String() string {
	if id.Namespace == "" {
		return id.Kind + " " + id.Name
	}
	return id.Kind + " " + id.Namespace + "/" + id.Name
}

// buildTree builds the path of every Sync reachable from the components, in
// breadth-first order: the Syncs the components declare, then the Syncs
// their paths declare, and so on. same tells which Syncs read this clone;
// ids open its SOPS-encrypted files, as the controller's would.
func buildTree(ctx context.Context, root string, components []*unstructured.Unstructured, same func(*capstanv1.Sync) bool, ids []age.Identity) []staticSync {
	var out []staticSync
	seen := map[string]bool{}
	queue := components
	for len(queue) > 0 && len(out) < maxSyncs {
		var next []*unstructured.Unstructured
		for _, o := range queue {
			s, ok := syncOf(o)
			if !ok || seen[s.Namespace+"/"+s.Name] || len(out) >= maxSyncs {
				continue
			}
			seen[s.Namespace+"/"+s.Name] = true
			st := staticSync{Namespace: s.Namespace, Name: s.Name, Path: s.Spec.Path}
			if !same(s) {
				st.Other = true
				out = append(out, st)
				continue
			}
			st.Objects, st.Sources, st.Err = build.BuildWith(ctx, root, pathOrRoot(s.Spec.Path), build.Options{Limits: build.DefaultLimits(), Identities: ids})
			out = append(out, st)
			next = append(next, st.Objects...)
		}
		queue = next
	}
	return out
}

func pathOrRoot(p string) string {
	if p == "" {
		return "."
	}
	return p
}

// sameSource returns whether a Sync reads the cloned branch of one of urls.
func sameSource(branch string, urls ...string) func(*capstanv1.Sync) bool {
	norm := func(u string) string {
		return strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(u), "/"), ".git")
	}
	want := map[string]bool{}
	for _, u := range urls {
		want[norm(u)] = true
	}
	return func(s *capstanv1.Sync) bool {
		ref := s.Ref()
		return want[norm(s.Spec.URL)] && ref.Tag == "" && ref.Commit == "" && ref.Branch == branch
	}
}

// indexFiles maps every object declared in a manifest file of the clone to
// the files declaring it, so that the report can name the base file of an
// object kustomize built (its build source is the kustomization). Objects
// kustomize renames or generates are not found; that is fine.
func indexFiles(root string) map[objectID][]string {
	idx := map[objectID][]string{}
	n := 0
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") && p != root {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isManifest(d.Name()) || n >= maxIndexed {
			return nil
		}
		n++
		info, err := d.Info()
		if err != nil || info.Size() > maxIndexSize || !info.Mode().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		objs, _ := build.Decode(rel, data)
		for _, o := range objs {
			id := idOf(o)
			idx[id] = append(idx[id], rel)
		}
		return nil
	})
	return idx
}

// fileOf returns the file declaring id, trying without the namespace (an
// overlay may set it) when the exact object is not found.
func fileOf(idx map[objectID][]string, id objectID) string {
	if f := idx[id]; len(f) > 0 {
		return f[0]
	}
	id.Namespace = ""
	if f := idx[id]; len(f) > 0 {
		return f[0]
	}
	return ""
}

func isManifest(name string) bool {
	switch path.Ext(name) {
	case ".yaml", ".yml", ".json":
		return !strings.HasPrefix(strings.ToLower(name), "kustomization")
	}
	return false
}

func fromUnstructured(o *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, into)
}
