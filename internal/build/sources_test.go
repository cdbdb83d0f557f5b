package build

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestBuildSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		want  map[string]string // object → where
	}{
		{
			name: "plain files, documents and list items",
			files: map[string]string{
				"app/b.yaml":    "# first\n" + cm("b1") + "---\n" + cm("b2"),
				"app/l.yaml":    "apiVersion: v1\nkind: List\nitems:\n- " + indent(cm("l1")) + "- " + indent(cm("l2")),
				"app/sub/a.yml": cm("a"),
			},
			want: map[string]string{
				"ConfigMap a": "app/sub/a.yml:1", "ConfigMap b1": "app/b.yaml:2", "ConfigMap b2": "app/b.yaml:9",
				"ConfigMap l1": "app/l.yaml:4", "ConfigMap l2": "app/l.yaml:10",
			},
		},
		{
			name:  "kustomize output is attributed to the kustomization",
			files: kust("resources:\n- cm.yaml\n"),
			want:  map[string]string{"ConfigMap cm": "app/kustomization.yaml"},
		},
		{
			name:  "nested kustomization in a plain directory",
			files: map[string]string{"app/a.yaml": cm("a"), "app/k/kustomization.yaml": "resources:\n- cm.yaml\n", "app/k/cm.yaml": cm("k")},
			want:  map[string]string{"ConfigMap a": "app/a.yaml:1", "ConfigMap k": "app/k/kustomization.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			objs, sources, err := BuildSources(t.Context(), writeTree(t, tt.files), "app", DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if len(sources) != len(objs) {
				t.Fatalf("%d sources for %d objects", len(sources), len(objs))
			}
			got := map[string]string{}
			for i, o := range objs {
				got[keyOf(o).String()] = sources[i].String()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sources (-want +got):\n%s", diff)
			}
		})
	}
}

// The fields written as one unquoted reference are typed, in plain files,
// list items and kustomize output (patched or not); quoted ones are not.
func TestBuildTypedFields(t *testing.T) {
	t.Parallel()
	const dep = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: ${REPLICAS}\n  paused: \"${PAUSED}\"\n  minReadySeconds: ${MIN:=5}\n"
	const patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: ${PROD_REPLICAS}\n  revisionHistoryLimit: '${N}'\n"
	list := "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: l}\n  data: {a: \"${A}\"}\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: s\n  spec:\n    ports:\n    - port: ${PORT}\n"
	tests := []struct {
		name  string
		files map[string]string
		want  map[string][]string
	}{
		{
			name:  "plain files and list items",
			files: map[string]string{"app/d.yaml": dep, "app/l.yaml": list, "app/j.json": `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j"},"data":{"a":"${A}"}}`},
			want:  map[string][]string{"Deployment.apps d": {"spec.replicas", "spec.minReadySeconds"}, "ConfigMap l": nil, "Service s": {"spec.ports[0].port"}, "ConfigMap j": nil},
		},
		{
			name:  "kustomize with a patch",
			files: map[string]string{"app/kustomization.yaml": "resources:\n- d.yaml\npatches:\n- path: p.yaml\n", "app/d.yaml": dep, "app/p.yaml": patch},
			want:  map[string][]string{"Deployment.apps d": {"spec.minReadySeconds", "spec.replicas"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			objs, sources, err := BuildSources(t.Context(), writeTree(t, tt.files), "app", DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for i, o := range objs {
				typed := slices.Clone(sources[i].Typed)
				slices.Sort(typed)
				got[keyOf(o).String()] = typed
			}
			for k := range tt.want {
				slices.Sort(tt.want[k])
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("typed fields (-want +got):\n%s", diff)
			}
		})
	}
}
