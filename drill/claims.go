package drill

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/capstan-gitops/capstan/internal/volumes"
)

// claim is a StorageClass a claim of an object names.
type claim struct {
	// Via says which claim: "spec.storageClassName" of a PVC, or
	// `volumeClaimTemplate "data"` of a StatefulSet.
	Via   string
	Class string
}

// claimsOf returns the StorageClasses the claims of o name. A claim that
// names none (it gets the default class) or "" (static binding only) is
// left out.
func claimsOf(o *unstructured.Unstructured) []claim {
	gvk := o.GroupVersionKind()
	switch {
	case gvk.Group == "" && gvk.Kind == "PersistentVolumeClaim":
		if class, _, _ := unstructured.NestedString(o.Object, "spec", "storageClassName"); class != "" {
			return []claim{{Via: "spec.storageClassName", Class: class}}
		}
	case gvk.Group == "apps" && gvk.Kind == "StatefulSet":
		templates, _, _ := unstructured.NestedSlice(o.Object, "spec", "volumeClaimTemplates")
		var out []claim
		for _, t := range templates {
			m, ok := t.(map[string]any)
			if !ok {
				continue
			}
			name, _, _ := unstructured.NestedString(m, "metadata", "name")
			if class, _, _ := unstructured.NestedString(m, "spec", "storageClassName"); class != "" {
				out = append(out, claim{Via: fmt.Sprintf("volumeClaimTemplate %q", name), Class: class})
			}
		}
		return out
	}
	return nil
}

// providedClasses returns the StorageClasses a rebuilt k3d cluster has:
// k3s's own, those git declares, and those of more.
func providedClasses(tree []staticSync, more map[string]bool) map[string]bool {
	out := map[string]bool{volumes.ClassName: true}
	for name := range more {
		out[name] = true
	}
	for _, s := range tree {
		for _, o := range s.Objects {
			if gvk := o.GroupVersionKind(); gvk.Group == "storage.k8s.io" && gvk.Kind == "StorageClass" {
				out[o.GetName()] = true
			}
		}
	}
	return out
}

// unprovided returns the claims of o naming a class not in provided.
func unprovided(o *unstructured.Unstructured, provided map[string]bool) []claim {
	var out []claim
	for _, c := range claimsOf(o) {
		if !provided[c.Class] {
			out = append(out, c)
		}
	}
	return out
}

// doomedSyncs returns the keys of the Syncs that apply a claim naming a
// StorageClass nothing provides: their health check can never pass, so the
// drill need not wait for it.
func doomedSyncs(tree []staticSync) map[string]bool {
	provided := providedClasses(tree, nil)
	out := map[string]bool{}
	for _, s := range tree {
		for _, o := range s.Objects {
			if len(unprovided(o, provided)) > 0 {
				out[s.Key()] = true
			}
		}
	}
	return out
}

// checkClaims reports the claims of object i of s naming a StorageClass
// that neither git nor the cluster provides, and whether there were any.
func (d *diagnosis) checkClaims(s staticSync, i int) bool {
	missing := unprovided(s.Objects[i], d.classes)
	for _, c := range missing {
		d.add(ProblemMissingStorageClass, s, i, "%s names StorageClass %s, which no manifest in git creates and k3s does not provide (it has %s, the default): the claim stays Pending and the pods using it are never scheduled",
			c.Via, c.Class, volumes.ClassName)
	}
	return len(missing) > 0
}
