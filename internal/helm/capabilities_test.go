package helm

import (
	"context"
	"strings"
	"testing"
)

// capsChart shows what its templates see of the cluster.
const capsChart = `apiVersion: v1
kind: ConfigMap
metadata:
  name: caps
data:
  version: {{ .Capabilities.KubeVersion.Version | quote }}
  full: {{ .Capabilities.KubeVersion | quote }}
  minor: {{ .Capabilities.KubeVersion.Minor | quote }}
  apps: {{ .Capabilities.APIVersions.Has "apps/v1" | quote }}
  deployment: {{ .Capabilities.APIVersions.Has "apps/v1/Deployment" | quote }}
  beta: {{ .Capabilities.APIVersions.Has "batch/v1beta1" | quote }}
  widgets: {{ .Capabilities.APIVersions.Has "example.com/v1" | quote }}
  secret: {{ lookup "v1" "Secret" "kube-system" "admin" | toJson | quote }}
`

func TestRenderCapabilities(t *testing.T) {
	t.Parallel()
	cluster := &Capabilities{KubeVersion: "v1.37.2", Major: "1", Minor: "37+", APIVersions: []string{"v1", "apps/v1", "apps/v1/Deployment", "example.com/v1"}}
	tests := []struct {
		name   string
		modify func(*Chart)
		want   []string
	}{
		{
			name:   "no cluster: helm template's defaults",
			modify: func(*Chart) {},
			want:   []string{`apps: "true"`, `deployment: "false"`, `beta: "true"`, `widgets: "false"`, `secret: "{}"`},
		},
		{
			name:   "the cluster's version and API versions, nothing else",
			modify: func(c *Chart) { c.Cluster = cluster },
			want:   []string{`version: "v1.37.2"`, `minor: "37+"`, `apps: "true"`, `deployment: "true"`, `beta: "false"`, `widgets: "true"`, `secret: "{}"`},
		},
		{
			name:   "the entry's kubeVersion wins, the cluster's API versions stay",
			modify: func(c *Chart) { c.Cluster, c.KubeVersion = cluster, "1.30.1" },
			want:   []string{`version: "v1.30.1"`, `minor: "30"`, `deployment: "true"`, `beta: "false"`, `widgets: "true"`},
		},
		{
			name:   "the entry's apiVersions add to Helm's defaults, the cluster's version stays",
			modify: func(c *Chart) { c.Cluster, c.APIVersions = cluster, []string{"other.io/v2"} },
			want:   []string{`version: "v1.37.2"`, `apps: "true"`, `deployment: "false"`, `beta: "true"`, `widgets: "false"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := chartOf(capsChart)
			tc.modify(&c)
			out, err := Renderer{}.Render(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestRenderWithClusterKeepsHooksAndCRDs: rendering with a cluster's
// capabilities emits what `helm template` emits (CRDs, hooks but tests).
func TestRenderWithClusterKeepsHooksAndCRDs(t *testing.T) {
	t.Parallel()
	c := chartOf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n",
		File{Name: "crds/crd.yaml", Data: []byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n")},
		File{Name: "templates/hook.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pre\n  annotations:\n    helm.sh/hook: pre-install\n")},
		File{Name: "templates/test.yaml", Data: []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: tester\n  annotations:\n    helm.sh/hook: test\n")})
	c.IncludeCRDs = true
	withCluster := c
	withCluster.Cluster = &Capabilities{KubeVersion: "v1.37.2", APIVersions: []string{"v1"}}
	want, err := Renderer{}.Render(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Renderer{}.Render(context.Background(), withCluster)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("with the cluster's capabilities:\n%s\nwant as without:\n%s", got, want)
	}
	if !strings.Contains(string(got), "widgets.example.com") || !strings.Contains(string(got), "name: pre") || strings.Contains(string(got), "tester") {
		t.Errorf("output:\n%s", got)
	}
}

func TestCapabilitiesDigest(t *testing.T) {
	t.Parallel()
	a := &Capabilities{KubeVersion: "v1.37.2", APIVersions: []string{"v1", "apps/v1"}}
	b := &Capabilities{KubeVersion: "v1.37.2", APIVersions: []string{"v1", "apps/v1", "example.com/v1"}}
	if a.Digest() == b.Digest() || a.Digest() == "" || (*Capabilities)(nil).Digest() != "" {
		t.Errorf("digests: %q %q %q", a.Digest(), b.Digest(), (*Capabilities)(nil).Digest())
	}
	if c := *a; c.Digest() != a.Digest() {
		t.Error("equal capabilities, different digests")
	}
}
