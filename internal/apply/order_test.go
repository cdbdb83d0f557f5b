package apply

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func TestSortWrites(t *testing.T) {
	t.Parallel()
	obj := func(doc string) *check {
		o := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &o.Object); err != nil {
			t.Fatal(err)
		}
		return &check{obj: o, ref: RefOf(o)}
	}
	simple := func(apiVersion, kind, ns, name string) *check {
		return obj("apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata: {name: " + name + ", namespace: '" + ns + "'}\n")
	}
	deployment := func(ns, name, sa, configMap, secret string) *check {
		return obj(`apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `, namespace: ` + ns + `}
spec:
  template:
    spec:
      serviceAccountName: ` + sa + `
      volumes: [{name: s, secret: {secretName: ` + secret + `}}]
      containers: [{name: c, envFrom: [{configMapRef: {name: ` + configMap + `, optional: true}}]}]
`)
	}
	tests := []struct {
		name   string
		writes []*check
		want   []string
	}{
		{
			name: "what pods name before the workloads, other data after them, custom resources last",
			writes: []*check{
				deployment("b", "web", "web", "cfg", "tls"),
				simple("example.com/v1", "Widget", "a", "w"),
				simple("v1", "ConfigMap", "b", "cfg"),
				simple("v1", "ConfigMap", "a", "unused"),
				deployment("a", "web", "web", "none", "none"),
				simple("v1", "Secret", "b", "loose"),
				simple("v1", "ServiceAccount", "a", "web"),
				simple("networking.k8s.io/v1", "Ingress", "b", "web"),
				simple("v1", "Secret", "b", "tls"),
				simple("v1", "Service", "a", "web"),
				simple("rbac.authorization.k8s.io/v1", "ClusterRole", "", "r"),
				simple("v1", "ConfigMap", "c", "cfg"),
			},
			want: []string{
				"ClusterRole/r",
				"ServiceAccount/a/web", "Service/a/web", "Deployment/a/web",
				"Secret/b/tls", "ConfigMap/b/cfg", "Deployment/b/web",
				"ConfigMap/a/unused", "Secret/b/loose", "ConfigMap/c/cfg",
				"Widget/a/w", "Ingress/b/web",
			},
		},
		{
			name: "a name in another namespace does not count",
			writes: []*check{
				simple("v1", "ConfigMap", "b", "cfg"),
				deployment("a", "web", "web", "cfg", "tls"),
			},
			want: []string{"Deployment/a/web", "ConfigMap/b/cfg"},
		},
		{
			name: "no workloads: Helm's order namespace by namespace, data after",
			writes: []*check{
				simple("v1", "ConfigMap", "a", "x"),
				simple("v1", "Service", "b", "s"),
				simple("v1", "ServiceAccount", "a", "sa"),
			},
			want: []string{"ServiceAccount/a/sa", "Service/b/s", "ConfigMap/a/x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sortWrites(tt.writes)
			var got []string
			for _, w := range tt.writes {
				got = append(got, w.ref.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("write order (-want +got):\n%s", diff)
			}
		})
	}
}
