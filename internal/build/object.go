package build

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/capstan-gitops/capstan/internal/substitute"
)

// typedFields returns the typed fields of an object's node, none for JSON
// (whose strings are always strings).
func typedFields(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	return substitute.TypedFields(n)
}

// objectsOf validates one decoded document and returns its objects,
// expanding List kinds.
func objectsOf(name string, v value) ([]item, error) {
	m, ok := v.v.(map[string]any)
	if !ok {
		return nil, errorf(name, v.line, "not a mapping (a Kubernetes object): the document is %s", describe(v.v))
	}
	items, isList := listItems(m)
	if !isList {
		if err := validate(m); err != nil {
			return nil, &Error{File: name, Line: v.line, Err: err}
		}
		return []item{{obj: &unstructured.Unstructured{Object: m}, file: name, line: v.line, typed: typedFields(v.node)}}, nil
	}
	out := make([]item, 0, len(items))
	nodes := itemNodes(v.node)
	for i, raw := range items {
		line := v.line
		if i < len(v.itemLines) {
			line = v.itemLines[i]
		}
		im, ok := raw.(map[string]any)
		if !ok {
			return nil, errorf(name, line, "items[%d] is %s, not a Kubernetes object", i, describe(raw))
		}
		if _, nested := listItems(im); nested {
			return nil, errorf(name, line, "items[%d] is a list: nested lists are not supported", i)
		}
		if err := validate(im); err != nil {
			return nil, errorf(name, line, "items[%d]: %w", i, err)
		}
		it := item{obj: &unstructured.Unstructured{Object: im}, file: name, line: line}
		if i < len(nodes) {
			it.typed = typedFields(nodes[i])
		}
		out = append(out, it)
	}
	return out, nil
}

// listItems returns the items of a List kind (v1/List or any kind ending
// in "List" with an items list).
func listItems(m map[string]any) ([]any, bool) {
	kind, _ := m["kind"].(string)
	items, ok := m["items"].([]any)
	if !ok || !strings.HasSuffix(kind, "List") {
		return nil, false
	}
	return items, true
}

// validate checks that m is a Kubernetes object: apiVersion, kind and
// metadata.name are non-empty strings, and metadata.namespace is a string.
func validate(m map[string]any) error {
	if _, ok := m["sops"]; ok {
		return errUndecrypted
	}
	apiVersion, err := requiredString(m, "apiVersion", "apiVersion")
	if err != nil {
		return err
	}
	if _, err := schema.ParseGroupVersion(apiVersion); err != nil {
		return fmt.Errorf("not a Kubernetes object: invalid apiVersion %q", apiVersion)
	}
	if _, err := requiredString(m, "kind", "kind"); err != nil {
		return err
	}
	meta, ok := m["metadata"].(map[string]any)
	if !ok {
		return errors.New("not a Kubernetes object: metadata is missing or not a mapping")
	}
	if _, err := requiredString(meta, "name", "metadata.name"); err != nil {
		return err
	}
	if ns, ok := meta["namespace"]; ok && ns != nil {
		if _, ok := ns.(string); !ok {
			return fmt.Errorf("not a Kubernetes object: metadata.namespace is %s, not a string", describe(ns))
		}
	}
	return nil
}

// requiredString returns m[field], which must be a non-empty string;
// errors call it display.
func requiredString(m map[string]any, field, display string) (string, error) {
	raw, ok := m[field]
	if !ok || raw == nil {
		return "", fmt.Errorf("not a Kubernetes object: %s is missing", display)
	}
	s, ok := raw.(string)
	if !ok {
		return "", fmt.Errorf("not a Kubernetes object: %s is %s, not a string", display, describe(raw))
	}
	if s == "" {
		return "", fmt.Errorf("not a Kubernetes object: %s is empty", display)
	}
	return s, nil
}

// key identifies an object regardless of its API version.
type key struct {
	group, kind, namespace, name string
}

func keyOf(u *unstructured.Unstructured) key {
	return key{
		group:     u.GroupVersionKind().Group,
		kind:      u.GetKind(),
		namespace: u.GetNamespace(),
		name:      u.GetName(),
	}
}

func (k key) String() string {
	gk := k.kind
	if k.group != "" {
		gk += "." + k.group
	}
	if k.namespace == "" {
		return gk + " " + k.name
	}
	return gk + " " + k.namespace + "/" + k.name
}

func compareKeys(a, b key) int {
	return cmp.Or(
		cmp.Compare(a.group, b.group),
		cmp.Compare(a.kind, b.kind),
		cmp.Compare(a.namespace, b.namespace),
		cmp.Compare(a.name, b.name),
	)
}

func (it item) where() string {
	if it.line > 0 {
		return it.file + ":" + strconv.Itoa(it.line)
	}
	return it.file
}

// finish refuses duplicate objects (same group, kind, namespace and name)
// and returns the items sorted by those fields, so that the output does
// not depend on file layout or kustomize's ordering.
func finish(items []item) ([]item, error) {
	keys := make([]key, len(items))
	seen := make(map[key]int, len(items))
	for i, it := range items {
		k := keyOf(it.obj)
		if j, dup := seen[k]; dup {
			return nil, errorf(it.file, it.line, "duplicate object %s: also defined at %s", k, items[j].where())
		}
		seen[k] = i
		keys[i] = k
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return compareKeys(keys[a], keys[b]) })
	out := make([]item, len(items))
	for i, j := range order {
		out[i] = items[j]
	}
	return out, nil
}

// Source is where a built object is defined in the checkout.
type Source struct {
	// File is the manifest, or for objects kustomize built, the
	// kustomization file; relative to the checkout root, in slash form.
	File string
	// Line is the 1-based line of the object's document or list item in
	// File, or 0 when unknown (kustomize output).
	Line int
	// Typed are the fields of the object written as an unquoted YAML
	// scalar that is exactly one variable reference ("replicas: ${N}"):
	// post-build substitution gives them their value's YAML type. See
	// substitute.TypedFields.
	Typed []string
}

// String formats the source as "file:line", or "file" without a line.
func (s Source) String() string {
	return item{file: s.File, line: s.Line}.where()
}

// split returns the objects of items and where each was defined.
func split(items []item) ([]*unstructured.Unstructured, []Source) {
	objs := make([]*unstructured.Unstructured, len(items))
	sources := make([]Source, len(items))
	for i, it := range items {
		objs[i], sources[i] = it.obj, Source{File: it.file, Line: it.line, Typed: it.typed}
	}
	return objs, sources
}
