// Package podrefs reads what the pod template of a workload names in its
// namespace: the ServiceAccount, Secrets and ConfigMaps its pods need (or
// read if they exist) when they start. The drill reports the ones nothing
// creates; apply writes them before the workloads.
package podrefs

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Ref is one object a pod template names.
type Ref struct {
	Kind string // Secret, ConfigMap or ServiceAccount
	Name string
	// Via says where the pod template names it ("env DB_PASSWORD of container api").
	Via string
	// Pull is true for an imagePullSecrets entry.
	Pull bool
	// Optional is true when the pods start without it.
	Optional bool
}

// SpecPath locates the pod spec of the workload kinds Kubernetes itself
// runs; nil for other kinds.
func SpecPath(group, kind string) []string {
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

// Spec returns the pod spec of a workload, or nil for other kinds.
func Spec(o *unstructured.Unstructured) (*corev1.PodSpec, error) {
	gvk := o.GroupVersionKind()
	path := SpecPath(gvk.Group, gvk.Kind)
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

// Of lists every object spec names, optional ones included, in the order
// they appear, leaving out what Kubernetes creates in every namespace.
func Of(spec *corev1.PodSpec) []Ref {
	var refs []Ref
	add := func(kind, name, via string, pull bool, opt *bool) {
		if name != "" && !builtin(kind, name) {
			refs = append(refs, Ref{Kind: kind, Name: name, Via: via, Pull: pull, Optional: opt != nil && *opt})
		}
	}
	for _, s := range spec.ImagePullSecrets {
		add("Secret", s.Name, "imagePullSecrets", true, nil)
	}
	add("ServiceAccount", spec.ServiceAccountName, "serviceAccountName", false, nil)
	for _, v := range spec.Volumes {
		volumeRefs(v, add)
	}
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			via := fmt.Sprintf("env %s of container %s", e.Name, c.Name)
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				add("Secret", r.Name, via, false, r.Optional)
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				add("ConfigMap", r.Name, via, false, r.Optional)
			}
		}
		for _, e := range c.EnvFrom {
			if r := e.SecretRef; r != nil {
				add("Secret", r.Name, "envFrom of container "+c.Name, false, r.Optional)
			}
			if r := e.ConfigMapRef; r != nil {
				add("ConfigMap", r.Name, "envFrom of container "+c.Name, false, r.Optional)
			}
		}
	}
	return refs
}

func volumeRefs(v corev1.Volume, add func(kind, name, via string, pull bool, opt *bool)) {
	via := "volume " + v.Name
	switch {
	case v.Secret != nil:
		add("Secret", v.Secret.SecretName, via, false, v.Secret.Optional)
	case v.ConfigMap != nil:
		add("ConfigMap", v.ConfigMap.Name, via, false, v.ConfigMap.Optional)
	case v.Projected != nil:
		for _, src := range v.Projected.Sources {
			if s := src.Secret; s != nil {
				add("Secret", s.Name, via, false, s.Optional)
			}
			if c := src.ConfigMap; c != nil {
				add("ConfigMap", c.Name, via, false, c.Optional)
			}
		}
	}
}

// builtin reports whether Kubernetes creates the object in every namespace.
func builtin(kind, name string) bool {
	return (kind == "ServiceAccount" && name == "default") || (kind == "ConfigMap" && name == "kube-root-ca.crt")
}
