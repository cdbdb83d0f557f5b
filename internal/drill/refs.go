package drill

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
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

// podSpecPath locates the pod spec of the workload kinds Kubernetes itself
// runs; nil for other kinds.
func podSpecPath(group, kind string) []string {
	switch group + "/" + kind {
	case "/Pod":
		return []string{"spec"}
	case "/ReplicationController", "apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "apps/ReplicaSet", "batch/Job":
		return []string{"spec", "template", "spec"}
	case "batch/CronJob":
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	return nil
}

// podSpecOf returns the pod spec of a workload, or nil for other kinds.
func podSpecOf(o *unstructured.Unstructured) (*corev1.PodSpec, error) {
	gvk := o.GroupVersionKind()
	path := podSpecPath(gvk.Group, gvk.Kind)
	if path == nil {
		return nil, nil
	}
	m, found, err := unstructured.NestedMap(o.Object, path...)
	if err != nil || !found {
		return nil, err
	}
	spec := &corev1.PodSpec{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, spec); err != nil {
		return nil, fmt.Errorf("reading the pod template of %s %s: %w", gvk.Kind, o.GetName(), err)
	}
	return spec, nil
}

// dependencies lists what the pod spec of a workload in namespace ns needs
// to exist, leaving out optional references and what every namespace has.
func dependencies(ns string, spec *corev1.PodSpec) []dependency {
	var deps []dependency
	add := func(kind, name, via string, pull bool) {
		if name != "" && !builtin(kind, name) {
			deps = append(deps, dependency{Kind: kind, Namespace: ns, Name: name, Via: via, Pull: pull})
		}
	}
	for _, s := range spec.ImagePullSecrets {
		add("Secret", s.Name, "imagePullSecrets", true)
	}
	add("ServiceAccount", spec.ServiceAccountName, "serviceAccountName", false)
	for _, v := range spec.Volumes {
		volumeDeps(v, add)
	}
	for _, c := range containers(spec) {
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil && !optional(r.Optional) {
				add("Secret", r.Name, fmt.Sprintf("env %s of container %s", e.Name, c.Name), false)
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil && !optional(r.Optional) {
				add("ConfigMap", r.Name, fmt.Sprintf("env %s of container %s", e.Name, c.Name), false)
			}
		}
		for _, e := range c.EnvFrom {
			if r := e.SecretRef; r != nil && !optional(r.Optional) {
				add("Secret", r.Name, "envFrom of container "+c.Name, false)
			}
			if r := e.ConfigMapRef; r != nil && !optional(r.Optional) {
				add("ConfigMap", r.Name, "envFrom of container "+c.Name, false)
			}
		}
	}
	return dedupe(deps)
}

func volumeDeps(v corev1.Volume, add func(kind, name, via string, pull bool)) {
	via := "volume " + v.Name
	switch {
	case v.Secret != nil && !optional(v.Secret.Optional):
		add("Secret", v.Secret.SecretName, via, false)
	case v.ConfigMap != nil && !optional(v.ConfigMap.Optional):
		add("ConfigMap", v.ConfigMap.Name, via, false)
	case v.Projected != nil:
		for _, src := range v.Projected.Sources {
			if s := src.Secret; s != nil && !optional(s.Optional) {
				add("Secret", s.Name, via, false)
			}
			if c := src.ConfigMap; c != nil && !optional(c.Optional) {
				add("ConfigMap", c.Name, via, false)
			}
		}
	}
}

// containers returns the init and app containers of spec.
func containers(spec *corev1.PodSpec) []corev1.Container {
	return append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
}

func optional(p *bool) bool { return p != nil && *p }

// builtin reports whether Kubernetes creates the object in every namespace.
func builtin(kind, name string) bool {
	return (kind == "ServiceAccount" && name == "default") || (kind == "ConfigMap" && name == "kube-root-ca.crt")
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
