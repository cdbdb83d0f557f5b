package drill

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/podrefs"
)

// facts are what the drill read from the rebuilt cluster once the Syncs
// were Ready or the drill gave up.
type facts struct {
	// kinds are the kinds the cluster serves.
	kinds map[schema.GroupKind]kindInfo
	// existing holds, per kind (Namespace, Secret, ConfigMap,
	// ServiceAccount), the names ("namespace/name", or "name" for a
	// Namespace) of the objects in the cluster.
	existing map[string]map[string]bool
	// health is the kstatus of the objects of Syncs that are not Ready and
	// that exist in the cluster.
	health map[objectID]health
	// classes are the StorageClasses of the cluster.
	classes map[string]bool
	// claims counts the cluster's PersistentVolumeClaims.
	claims int
}

// kindInfo is how a kind is served.
type kindInfo struct {
	Namespaced bool
	Versions   map[string]bool
}

// health is an object's kstatus.
type health struct {
	Status  string // Current, InProgress, Failed, Terminating, Unknown
	Message string
}

// diagnosis finds, in what git declares and what the cluster holds, why
// the cluster did not rebuild.
type diagnosis struct {
	tree  []staticSync
	facts facts
	files map[objectID][]string
	// notReady holds the keys of the Syncs that are not Ready.
	notReady map[string]bool

	gitKinds map[schema.GroupKind]kindInfo
	gitNames map[string]map[string]bool
	// classes are the StorageClasses git or the cluster provide.
	classes  map[string]bool
	problems []Problem
	seenNS   map[string]bool
}

// diagnose returns the problems the static analysis of git against the
// rebuilt cluster finds, sorted. Problems of Syncs themselves (their Ready
// condition) are added by the caller.
func diagnose(tree []staticSync, f facts, files map[objectID][]string, notReady map[string]bool) []Problem {
	d := &diagnosis{tree: tree, facts: f, files: files, notReady: notReady, seenNS: map[string]bool{}}
	d.indexGit()
	d.classes = providedClasses(tree, f.classes)
	for _, s := range tree {
		d.checkBuild(s)
		for i := range s.Objects {
			d.check(s, i)
		}
	}
	sortProblems(d.problems)
	return d.problems
}

// indexGit collects the kinds git's CRDs define and the names git creates.
func (d *diagnosis) indexGit() {
	d.gitKinds = map[schema.GroupKind]kindInfo{}
	d.gitNames = map[string]map[string]bool{}
	for _, s := range d.tree {
		for _, o := range s.Objects {
			gvk := o.GroupVersionKind()
			if gvk.Group == apiextensionsv1.GroupName && gvk.Kind == "CustomResourceDefinition" {
				gk, info := crdKind(o)
				d.gitKinds[gk] = info
			}
			if gvk.Group == "" {
				addName(d.gitNames, gvk.Kind, nameKey(gvk.Kind, o.GetNamespace(), o.GetName()))
			}
		}
	}
}

func crdKind(o *unstructured.Unstructured) (schema.GroupKind, kindInfo) {
	group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
	scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
	info := kindInfo{Namespaced: scope != string(apiextensionsv1.ClusterScoped), Versions: map[string]bool{}}
	versions, _, _ := unstructured.NestedSlice(o.Object, "spec", "versions")
	for _, v := range versions {
		if m, ok := v.(map[string]any); ok {
			if name, _ := m["name"].(string); name != "" && m["served"] != false {
				info.Versions[name] = true
			}
		}
	}
	return schema.GroupKind{Group: group, Kind: kind}, info
}

func addName(m map[string]map[string]bool, kind, name string) {
	if m[kind] == nil {
		m[kind] = map[string]bool{}
	}
	m[kind][name] = true
}

func nameKey(kind, ns, name string) string {
	if kind == "Namespace" {
		return name
	}
	if ns == "" {
		ns = "default"
	}
	return ns + "/" + name
}

// exists reports whether git creates the object or the cluster holds it.
func (d *diagnosis) exists(kind, ns, name string) bool {
	k := nameKey(kind, ns, name)
	return d.gitNames[kind][k] || d.facts.existing[kind][k]
}

func (d *diagnosis) add(kind string, s staticSync, i int, format string, args ...any) {
	id := idOf(s.Objects[i])
	d.problems = append(d.problems, Problem{Kind: kind, Object: id.String(), File: d.where(s, i, id), Sync: s.Key(), Message: fmt.Sprintf(format, args...)})
}

// where names the file (and line) that defines object i of s: its build
// source, or for an object kustomize built, the base file declaring it when
// one does.
func (d *diagnosis) where(s staticSync, i int, id objectID) string {
	var src build.Source
	if i < len(s.Sources) {
		src = s.Sources[i]
	}
	if src.Line > 0 {
		return src.String()
	}
	if f := fileOf(d.files, id); f != "" {
		return f
	}
	return src.File
}

// check looks at object i of Sync s.
func (d *diagnosis) check(s staticSync, i int) {
	o := s.Objects[i]
	id, gvk := idOf(o), o.GroupVersionKind()
	info, known := d.kindOf(gvk)
	if !known {
		d.add(ProblemMissingCRD, s, i, "%s", missingKind(gvk, d.facts.kinds[gvk.GroupKind()]))
	}
	if known && info.Namespaced && o.GetNamespace() != "" && !d.exists("Namespace", "", o.GetNamespace()) && !d.seenNS[o.GetNamespace()] {
		d.seenNS[o.GetNamespace()] = true
		d.add(ProblemMissingNamespace, s, i, "namespace %s is not created by any manifest in git, so nothing can be applied into it", o.GetNamespace())
	}
	d.checkDependencies(s, i)
	// An object whose claim names a missing StorageClass is unhealthy
	// for that reason, which its missing-storageclass problem tells.
	noClass := d.checkClaims(s, i)
	if h, ok := d.facts.health[id]; ok && !noClass && d.notReady[s.Key()] && h.Status != "Current" {
		d.add(ProblemUnhealthy, s, i, "never became healthy: %s: %s", h.Status, orNone(h.Message))
	}
}

// checkBuild reports a Sync whose path names a file git does not hold;
// the controller fails the Sync with the same error.
func (d *diagnosis) checkBuild(s staticSync) {
	if e, ok := errors.AsType[*build.MissingFileError](s.Err); ok {
		d.problems = append(d.problems, Problem{Kind: ProblemMissingFile, Object: syncObject(s.Namespace, s.Name), File: e.Location(), Message: e.Problem()})
	}
}

// kindOf returns how the cluster or a CRD in git serves gvk.
func (d *diagnosis) kindOf(gvk schema.GroupVersionKind) (kindInfo, bool) {
	for _, m := range []map[schema.GroupKind]kindInfo{d.facts.kinds, d.gitKinds} {
		if info, ok := m[gvk.GroupKind()]; ok && info.Versions[gvk.Version] {
			return info, true
		}
	}
	return kindInfo{}, false
}

// missingKind explains a kind that neither the cluster nor git serves.
func missingKind(gvk schema.GroupVersionKind, served kindInfo) string {
	apiVersion := gvk.GroupVersion().String()
	if len(served.Versions) > 0 {
		return fmt.Sprintf("%s is not served at %s; the cluster serves %s", gvk.Kind, apiVersion, strings.Join(sortedKeys(served.Versions), ", "))
	}
	if builtinGroup(gvk.Group) {
		return fmt.Sprintf("Kubernetes does not serve %s %s: a removed API version or a misspelt kind", apiVersion, gvk.Kind)
	}
	return fmt.Sprintf("no CustomResourceDefinition in git defines %s in %s: add the CRD to the repository (the chart or operator that brings it) so that a new cluster gets it first", gvk.Kind, apiVersion)
}

// builtinGroup reports whether group is one of Kubernetes' own.
func builtinGroup(group string) bool {
	return group == "" || !strings.Contains(group, ".") || strings.HasSuffix(group, ".k8s.io")
}

// checkDependencies finds what the pod template of a workload needs and
// nothing creates.
func (d *diagnosis) checkDependencies(s staticSync, i int) {
	o := s.Objects[i]
	spec, err := podrefs.Spec(o)
	if err != nil || spec == nil {
		return
	}
	ns := o.GetNamespace()
	if ns == "" {
		ns = "default"
	}
	for _, dep := range dependencies(ns, spec) {
		if d.exists(dep.Kind, dep.Namespace, dep.Name) {
			continue
		}
		ref := dep.Namespace + "/" + dep.Name
		switch {
		case dep.Pull:
			d.add(ProblemMissingPullSecret, s, i, "pulls its images with Secret %s (imagePullSecrets), which no manifest in git creates: a private registry would refuse the pulls (ImagePullBackOff)", ref)
		case dep.Kind == "ServiceAccount":
			d.add(ProblemMissingSA, s, i, "runs as ServiceAccount %s, which no manifest in git creates: its pods cannot be created", ref)
		case dep.Kind == "Secret":
			d.add(ProblemMissingSecret, s, i, "needs Secret %s (%s), which no manifest in git creates: in a real cluster its pods would not start (the simulated nodes start them anyway)", ref, dep.Via)
		default:
			d.add(ProblemMissingConfigMap, s, i, "needs ConfigMap %s (%s), which no manifest in git creates: in a real cluster its pods would not start (the simulated nodes start them anyway)", ref, dep.Via)
		}
	}
}

// problemOrder is the order of problem kinds in a report: causes first.
func problemOrder(kind string) int {
	for i, k := range []string{ProblemMissingFile, ProblemUndecryptable, ProblemMissingCRD, ProblemMissingNamespace, ProblemMissingStorageClass, ProblemMissingSecret, ProblemMissingPullSecret,
		ProblemMissingConfigMap, ProblemMissingSA, ProblemUnhealthy, ProblemSuspended, ProblemSyncFailed} {
		if k == kind {
			return i
		}
	}
	return 99
}

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if oa, ob := problemOrder(a.Kind), problemOrder(b.Kind); oa != ob {
			return oa < ob
		}
		if a.Object != b.Object {
			return a.Object < b.Object
		}
		return a.Message < b.Message
	})
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func orNone(s string) string {
	if s == "" {
		return "no message"
	}
	return s
}
