package drill

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/capstan-gitops/capstan/internal/podrefs"
)

// dependency is an object a workload needs at run time but does not create:
// a Secret, ConfigMap or ServiceAccount in the workload's namespace.
type dependency struct {
	Kind      string // Secret, ConfigMap or ServiceAccount
	Namespace string
	Name      string
	// Via says where the pod template names it ("env DB_PASSWORD of container api").
	Via string
	// Pull is true for an imagePullSecrets entry.
	Pull bool
}

// dependencies lists what the pod spec of a workload in namespace ns needs
// to exist, leaving out optional references and what every namespace has.
func dependencies(ns string, spec *corev1.PodSpec) []dependency {
	var deps []dependency
	for _, r := range podrefs.Of(spec) {
		if !r.Optional {
			deps = append(deps, dependency{Kind: r.Kind, Namespace: ns, Name: r.Name, Via: r.Via, Pull: r.Pull})
		}
	}
	return dedupe(deps)
}

// dedupe keeps the first reference of each object, sorted by kind and name.
func dedupe(deps []dependency) []dependency {
	seen := map[[3]string]bool{}
	out := deps[:0]
	for _, d := range deps {
		k := [3]string{d.Kind, d.Name, fmt.Sprint(d.Pull)}
		if !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}
