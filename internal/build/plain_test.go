package build

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBuildPlain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		path  string
		want  []string
	}{
		{
			name: "a nested kustomization is built as one unit",
			files: map[string]string{
				"clusters/dwk/app.yaml":                          cm("app"),
				"clusters/dwk/capstan-system/kustomization.yaml": "resources:\n- components.yaml\nnamePrefix: x-\n",
				"clusters/dwk/capstan-system/components.yaml":    cm("components"),
				"clusters/dwk/capstan-system/unlisted.yaml":      cm("unlisted"),
			},
			path: "clusters/dwk",
			want: []string{"ConfigMap app", "ConfigMap x-components"},
		},
		{
			name:  "flat directory",
			files: map[string]string{"b.yaml": cm("b"), "a.yml": cm("a"), "README.md": "# not a manifest"},
			want:  []string{"ConfigMap a", "ConfigMap b"},
		},
		{
			name: "nested directories",
			files: map[string]string{
				"clusters/dwk/app/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: app\n",
				"clusters/dwk/ns.yaml":         "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n",
				"clusters/other/x.yaml":        cm("not-built"),
			},
			path: "./clusters/dwk",
			want: []string{"Namespace app", "Deployment.apps app/web"},
		},
		{
			name: "json files, including a stream",
			files: map[string]string{
				"a.json": `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}`,
				"b.JSON": "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"}}\n{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"t\"}}\n",
			},
			want: []string{"ConfigMap a", "Secret s", "Secret t"},
		},
		{
			name: "multi-document yaml with empty and null documents",
			files: map[string]string{
				"all.yaml": "---\n# comment only\n---\n" + cm("one") + "---\n~\n---\n" + cm("two") + "...\n---\n\n",
			},
			want: []string{"ConfigMap one", "ConfigMap two"},
		},
		{
			name: "lists are expanded",
			files: map[string]string{
				"list.yaml": "apiVersion: v1\nkind: List\nitems:\n- " + indent(cm("a")) + "- " + indent(cm("b")),
				"cms.yaml":  "apiVersion: v1\nkind: ConfigMapList\nitems:\n- " + indent(cm("c")),
			},
			want: []string{"ConfigMap a", "ConfigMap b", "ConfigMap c"},
		},
		{
			name: "hidden files and directories are skipped",
			files: map[string]string{
				".git/config.yaml":   "not: [valid",
				".github/ci.yaml":    "on: push",
				".hidden.yaml":       "x",
				"visible/.also.yaml": "x",
				"visible/ok.yaml":    cm("ok"),
			},
			want: []string{"ConfigMap ok"},
		},
		{
			name:  "empty directory",
			files: map[string]string{"empty/": ""},
			path:  "empty",
			want:  []string{},
		},
		{
			name: "same name in different namespaces or groups is fine",
			files: map[string]string{
				"a.yaml": cm("x"),
				"b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: other\n",
				"c.yaml": "apiVersion: example.com/v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
			},
			want: []string{"ConfigMap x", "ConfigMap other/x", "ConfigMap.example.com x"},
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
			if objs == nil {
				t.Error("Build returned a nil slice, want an empty one")
			}
			if diff := cmp.Diff(tt.want, ids(objs)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildPlainErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		file  string
		line  int
		msg   string
	}{
		{
			name:  "malformed yaml names file and line",
			files: map[string]string{"apps/bad.yaml": cm("ok") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  bad: [unclosed\n"},
			file:  "apps/bad.yaml",
			line:  12,
			msg:   "invalid YAML",
		},
		{
			name:  "bad indentation",
			files: map[string]string{"bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   labels: {}\n"},
			file:  "bad.yaml",
			line:  5,
			msg:   "invalid YAML",
		},
		{
			name:  "tab indentation",
			files: map[string]string{"bad.yaml": cm("a") + "---\n\ta: b\n"},
			file:  "bad.yaml",
			line:  8,
			msg:   "invalid YAML",
		},
		{
			name:  "valid yaml that is not an object names file and line",
			files: map[string]string{"x/list.yaml": cm("a") + "---\n- just\n- a list\n"},
			file:  "x/list.yaml",
			line:  8,
			msg:   "not a mapping (a Kubernetes object): the document is a list",
		},
		{
			name:  "missing kind",
			files: map[string]string{"a.yaml": cm("a") + "---\n\napiVersion: v1\nmetadata:\n  name: x\n"},
			file:  "a.yaml",
			line:  9,
			msg:   "kind is missing",
		},
		{
			name:  "missing name",
			files: map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: x-\n"},
			file:  "a.yaml",
			line:  1,
			msg:   "metadata.name is missing",
		},
		{
			name:  "list item without name names its line",
			files: map[string]string{"l.yaml": "apiVersion: v1\nkind: List\nitems:\n- " + indent(cm("a")) + "- apiVersion: v1\n  kind: ConfigMap\n"},
			file:  "l.yaml",
			line:  10,
			msg:   "items[1]",
		},
		{
			name:  "invalid json names the line",
			files: map[string]string{"a.json": "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \n}\n"},
			file:  "a.json",
			line:  4,
			msg:   "invalid JSON",
		},
		{
			name:  "duplicate names both files",
			files: map[string]string{"a/one.yaml": cm("dup"), "b/two.yaml": "# x\n" + cm("dup")},
			file:  "b/two.yaml",
			line:  2,
			msg:   "duplicate object ConfigMap dup: also defined at a/one.yaml:1",
		},
		{
			name:  "duplicate across api versions",
			files: map[string]string{"a.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n", "b.yaml": "apiVersion: apps/v1beta1\nkind: Deployment\nmetadata:\n  name: d\n"},
			file:  "b.yaml",
			line:  1,
			msg:   "also defined at a.yaml:1",
		},
		{
			name:  "duplicate between a plain file and a nested kustomization",
			files: map[string]string{"a.yaml": cm("a"), "sub/kustomization.yaml": "resources:\n- a.yaml\n", "sub/a.yaml": cm("a")},
			file:  "sub/kustomization.yaml",
			line:  0,
			msg:   "duplicate object ConfigMap a: also defined at a.yaml:1",
		},
		{
			name:  "second document on a separator line",
			files: map[string]string{"a.yaml": cm("a") + "--- !!map\nb: c\n"},
			file:  "a.yaml",
			line:  7,
			msg:   "put --- on a line of its own",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := writeTree(t, tt.files)
			_, err := Build(t.Context(), root, "", DefaultLimits())
			wantError(t, err, tt.file, tt.line, tt.msg, nil)
		})
	}
}

// indent indents all but the first line of s by two spaces, to nest a
// manifest in a list item.
func indent(s string) string {
	out := ""
	for i, l := range splitLines(s) {
		if i > 0 {
			out += "  "
		}
		out += l + "\n"
	}
	return out
}

func splitLines(s string) []string {
	var lines []string
	start := 0
	for i := range len(s) {
		if s[i] == '\n' {
			lines = append(lines, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}
