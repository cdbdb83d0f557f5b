package build

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBuildKustomize(t *testing.T) {
	t.Parallel()
	base := map[string]string{
		"base/kustomization.yaml": "resources:\n- deploy.yaml\n- svc.yaml\n",
		"base/deploy.yaml":        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n",
		"base/svc.yaml":           "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n",
	}
	tests := []struct {
		name  string
		files map[string]string
		path  string
		want  []string
		check func(t *testing.T, objs map[string]map[string]any)
	}{
		{
			name:  "base",
			files: base,
			path:  "base",
			want:  []string{"Service web", "Deployment.apps web"},
		},
		{
			name: "overlay with ../base, patches, namePrefix and a generator",
			files: merge(base, map[string]string{
				"clusters/dwk/kustomization.yml": "namespace: app\nnamePrefix: dwk-\nresources:\n- ../../base\npatches:\n- path: replicas.yaml\nconfigMapGenerator:\n- name: settings\n  literals:\n  - URL=https://example.com/not-fetched\n  files:\n  - app.properties\n",
				"clusters/dwk/replicas.yaml":     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
				"clusters/dwk/app.properties":    "color=blue\n",
			}),
			path: "./clusters/dwk",
			want: []string{"ConfigMap app/dwk-settings-fdhgm2c92h", "Service app/dwk-web", "Deployment.apps app/dwk-web"},
			check: func(t *testing.T, objs map[string]map[string]any) {
				spec := objs["Deployment.apps app/dwk-web"]["spec"].(map[string]any)
				if spec["replicas"] != int64(3) {
					t.Errorf("replicas = %#v, want int64(3)", spec["replicas"])
				}
			},
		},
		{
			name: "Kustomization file name and a base reached through an inner symlink",
			files: merge(base, map[string]string{
				"app/Kustomization": "resources:\n- ../linked\n",
				"linked":            "symlink:base",
			}),
			path: "app",
			want: []string{"Service web", "Deployment.apps web"},
		},
		{
			name:  "repository root",
			files: map[string]string{"kustomization.yaml": "resources:\n- cm.yaml\n", "cm.yaml": cm("root")},
			want:  []string{"ConfigMap root"},
		},
		{
			name:  "inline builtin transformer with a URL in its content",
			files: kust("resources:\n- cm.yaml\ntransformers:\n- |\n  apiVersion: builtin\n  kind: AnnotationsTransformer\n  metadata:\n    name: a\n  annotations:\n    docs: https://example.com\n  fieldSpecs:\n  - path: metadata/annotations\n    create: true\n"),
			path:  "app",
			want:  []string{"ConfigMap cm"},
			check: func(t *testing.T, objs map[string]map[string]any) {
				annotations := objs["ConfigMap cm"]["metadata"].(map[string]any)["annotations"]
				if diff := cmp.Diff(map[string]any{"docs": "https://example.com"}, annotations); diff != "" {
					t.Errorf("annotations (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "builtin transformer from a file",
			files: merge(base, map[string]string{
				"o/kustomization.yaml": "resources:\n- ../base\ntransformers:\n- labels.yaml\n",
				"o/labels.yaml":        "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: l\nlabels:\n  team: a\nfieldSpecs:\n- path: metadata/labels\n  create: true\n",
			}),
			path: "o",
			want: []string{"Service web", "Deployment.apps web"},
			check: func(t *testing.T, objs map[string]map[string]any) {
				labels := objs["Service web"]["metadata"].(map[string]any)["labels"]
				if diff := cmp.Diff(map[string]any{"team": "a"}, labels); diff != "" {
					t.Errorf("labels (-want +got):\n%s", diff)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := writeTree(t, tt.files)
			objs, err := Build(t.Context(), root, tt.path, DefaultLimits())
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if diff := cmp.Diff(tt.want, ids(objs)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				byID := map[string]map[string]any{}
				for _, o := range objs {
					byID[keyOf(o).String()] = o.Object
				}
				tt.check(t, byID)
			}
		})
	}
}

func TestBuildKustomizeRefused(t *testing.T) {
	t.Parallel()
	const k = "app/kustomization.yaml"
	tests := []struct {
		name     string
		files    map[string]string
		file     string
		line     int
		msg      string
		sentinel error
	}{
		{name: "remote base over https", files: kust("resources:\n- https://github.com/org/repo//base?ref=v1\n"), file: k, line: 2, msg: "https://github.com", sentinel: ErrRemote},
		{name: "remote base in github shorthand", files: kust("resources:\n- github.com/org/repo/base?ref=main\n"), file: k, line: 2, msg: "github.com/org", sentinel: ErrRemote},
		{name: "remote base scp style", files: kust("bases:\n- git@gitlab.com:org/repo.git\n"), file: k, line: 2, msg: "git@gitlab.com", sentinel: ErrRemote},
		{name: "remote base with git:: prefix", files: kust("resources:\n- git::ssh://host/repo\n"), file: k, line: 2, msg: "git::ssh", sentinel: ErrRemote},
		{name: "remote component", files: kust("components:\n- ssh://git@host/org/repo\n"), file: k, line: 2, msg: "ssh://", sentinel: ErrRemote},
		{name: "remote patch file", files: kust("resources:\n- cm.yaml\npatches:\n- path: http://169.254.169.254/latest/meta-data\n"), file: k, line: 4, msg: "169.254.169.254", sentinel: ErrRemote},
		{name: "remote generator file source", files: kust("configMapGenerator:\n- name: x\n  files:\n  - key=https://example.com/secret\n"), file: k, line: 4, msg: "key=https://example.com", sentinel: ErrRemote},
		{name: "remote file in an inline builtin config", files: kust("transformers:\n- |\n  apiVersion: builtin\n  kind: PatchTransformer\n  metadata:\n    name: p\n  path: https://example.com/p.yaml\n"), file: k, line: 7, msg: "https://example.com/p.yaml", sentinel: ErrRemote},
		{name: "remote file in a builtin config file", files: kust("transformers:\n- t.yaml\n", "app/t.yaml", "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\npath: https://example.com/p.yaml\n"), file: "app/t.yaml", line: 5, msg: "https://example.com/p.yaml", sentinel: ErrRemote},
		{name: "remote base in a base", files: kust("resources:\n- ../base\n", "base/kustomization.yaml", "resources:\n- https://example.com/x.yaml\n"), file: "base/kustomization.yaml", line: 2, msg: "https://example.com/x.yaml", sentinel: ErrRemote},
		{name: "absolute path in resources", files: kust("resources:\n- /etc/passwd\n"), file: k, line: 2, msg: "/etc/passwd", sentinel: ErrOutsideRoot},
		{name: "resource leaving the repository", files: kust("resources:\n- ../../outside\n"), file: k, line: 2, msg: "../../outside", sentinel: ErrOutsideRoot},
		{name: "base cycle", files: kust("resources:\n- ../b\n", "b/kustomization.yaml", "resources:\n- ../app\n"), file: "b/kustomization.yaml", line: 0, msg: "kustomization cycle: app -> b -> app", sentinel: nil},
		{name: "self cycle through a symlink", files: kust("resources:\n- self\n", "app/self", "symlink:."), file: k, line: 0, msg: "kustomization cycle", sentinel: nil},
		{name: "directory as a transformer", files: kust("transformers:\n- ../t\n", "t/kustomization.yaml", "resources: []\n"), file: k, line: 2, msg: "is a directory", sentinel: ErrUnsupported},
		{name: "helm chart inflation generator", files: kust("helmChartInflationGenerator:\n- chartName: x\n"), file: k, line: 1, msg: "helmChartInflationGenerator", sentinel: ErrUnsupported},
		{name: "custom openapi schema", files: kust("openapi:\n  path: schema.json\n"), file: k, line: 1, msg: "openapi", sentinel: ErrUnsupported},
		{name: "two kustomization files", files: kust("resources: []\n", "app/kustomization.yml", "resources: []\n"), file: "app", line: 0, msg: "more than one kustomization file", sentinel: nil},
		{name: "kustomization that is a list", files: kust("- a\n"), file: k, line: 1, msg: "not a mapping", sentinel: nil},
		{name: "malformed kustomization", files: kust("resources:\n- a\n b: c\n"), file: k, line: 3, msg: "invalid YAML", sentinel: nil},
		{name: "kustomize's own error", files: kust("resources:\n- cm.yaml\n- cm.yaml\n"), file: k, line: 0, msg: "kustomize:", sentinel: nil},
		{name: "file resource outside the kustomization root", files: kust("resources:\n- ../other/cm.yaml\n", "other/cm.yaml", cm("o")), file: k, line: 2, msg: "file outside app", sentinel: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := writeTree(t, tt.files)
			_, err := Build(t.Context(), root, "app", DefaultLimits())
			wantError(t, err, tt.file, tt.line, tt.msg, tt.sentinel)
			t.Log(err)
		})
	}
}

// kust returns a tree with app/kustomization.yaml holding k, app/cm.yaml,
// and further path, content pairs.
func kust(k string, more ...string) map[string]string {
	files := map[string]string{"app/kustomization.yaml": k, "app/cm.yaml": cm("cm")}
	for i := 0; i+1 < len(more); i += 2 {
		files[more[i]] = more[i+1]
	}
	return files
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestBuildKustomizeRunsNothing checks that exec plugins, exec KRM
// functions and container functions are refused without running anything.
func TestBuildKustomizeRunsNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		field  string
		config string
	}{
		{
			name:   "exec generator plugin",
			field:  "generators",
			config: "apiVersion: someteam.example.com/v1\nkind: Evil\nmetadata:\n  name: evil\n",
		},
		{
			name:   "exec KRM function transformer",
			field:  "transformers",
			config: "apiVersion: example.com/v1\nkind: Evil\nmetadata:\n  name: evil\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ./evil.sh\n",
		},
		{
			name:   "container KRM function validator",
			field:  "validators",
			config: "apiVersion: example.com/v1\nkind: Evil\nmetadata:\n  name: evil\n  annotations:\n    config.kubernetes.io/function: |\n      container:\n        image: example.com/evil\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			marker := filepath.Join(t.TempDir(), "ran")
			script := "#!/bin/sh\ntouch " + marker + "\n"
			files := kust(tt.field+":\n- plugin.yaml\n", "app/plugin.yaml", tt.config, "app/evil.sh", script)
			root := writeTree(t, files)
			if err := os.Chmod(filepath.Join(root, "app/evil.sh"), 0o755); err != nil {
				t.Fatal(err)
			}
			_, err := Build(t.Context(), root, "app", DefaultLimits())
			wantError(t, err, "app/kustomization.yaml", 0, "external plugins disabled", nil)
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("the plugin ran")
			}
		})
	}
}

func TestBuildKustomizeAliasBomb(t *testing.T) {
	t.Parallel()
	root := writeTree(t, kust("resources:\n- bomb.yaml\n", "app/bomb.yaml", aliasBomb(9)))
	start := time.Now()
	_, err := Build(t.Context(), root, "app", DefaultLimits())
	wantError(t, err, "app/bomb.yaml", -1, "billion laughs", nil)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}
