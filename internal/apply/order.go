package apply

import (
	"sort"

	"github.com/capstan-gitops/capstan/internal/podrefs"
)

// installRank ranks kinds as Helm installs them: what workloads refer to
// (service accounts, secrets, config, volumes, roles, services) before the
// workloads. Kinds not listed (custom resources) come last.
func installRank(kind string) int {
	order := [...]string{"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget",
		"ServiceAccount", "Secret", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
		"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service",
		"DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler",
		"StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService"}
	for i, k := range order {
		if k == kind {
			return i
		}
	}
	return len(order)
}

// The tiers of sortWrites.
const (
	tierWorkloads = iota // workloads and what comes before them in Helm's order
	tierData             // ConfigMaps and Secrets no pod template being written names
	tierAfter            // what comes after workloads: ingresses, custom resources
)

// sortWrites orders the writes of a stage. Writes go concurrently in this
// order (they start in it; a few are in flight at once), so that
//
//   - what a workload's pods name (service account, Secrets, ConfigMaps)
//     and the Services of its namespace are written before the workload, as
//     Helm orders them, namespace by namespace;
//   - workloads, the slowest objects to become ready, start rolling out
//     before the bulk of the ConfigMaps and Secrets that no pod template
//     names, which follow;
//   - ingresses and custom resources, which may name any of those, come
//     last, as in Helm's order.
func sortWrites(writes []*check) {
	named := namedByPods(writes)
	workloadRank := installRank("CronJob")
	type key struct{ tier, rank int }
	keys := make(map[*check]key, len(writes))
	for _, c := range writes {
		k := key{tier: tierWorkloads, rank: installRank(c.ref.Kind)}
		switch {
		case (c.ref.Kind == "ConfigMap" || c.ref.Kind == "Secret") && c.ref.Group == "" &&
			!named[podObject{c.ref.Kind, c.ref.Namespace, c.ref.Name}]:
			k.tier = tierData
		case k.rank > workloadRank:
			k.tier = tierAfter
		}
		keys[c] = k
	}
	sort.SliceStable(writes, func(i, j int) bool {
		a, b := writes[i], writes[j]
		ka, kb := keys[a], keys[b]
		if ka.tier != kb.tier {
			return ka.tier < kb.tier
		}
		if a.ref.Namespace != b.ref.Namespace {
			return a.ref.Namespace < b.ref.Namespace
		}
		return ka.rank < kb.rank
	})
}

// podObject is an object a pod template names, in the workload's namespace.
type podObject struct{ kind, namespace, name string }

// namedByPods returns the objects that the pod templates of the workloads
// among writes name, optional ones included. A template that cannot be
// read names nothing here.
func namedByPods(writes []*check) map[podObject]bool {
	named := map[podObject]bool{}
	for _, c := range writes {
		if podrefs.SpecPath(c.ref.Group, c.ref.Kind) == nil {
			continue
		}
		spec, err := podrefs.Spec(c.obj)
		if err != nil || spec == nil {
			continue
		}
		for _, r := range podrefs.Of(spec) {
			named[podObject{r.Kind, c.ref.Namespace, r.Name}] = true
		}
	}
	return named
}
