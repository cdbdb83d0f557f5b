package helm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// chartOf returns a chart named "c" whose templates/t.yaml is tpl.
func chartOf(tpl string, extra ...File) Chart {
	files := []File{
		{Name: "Chart.yaml", Data: []byte("apiVersion: v2\nname: c\nversion: 0.1.0\n")},
		{Name: "values.yaml", Data: []byte("num: 3\n")},
		{Name: "templates/t.yaml", Data: []byte(tpl)},
	}
	return Chart{Name: "c", Files: append(files, extra...)}
}

func TestRender(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		chart  Chart
		want   []string // substrings of the output
		absent []string
	}{
		{
			name:  "values, release and capabilities",
			chart: chartOf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\ndata:\n  n: {{ .Values.num | quote }}\n  k: {{ .Capabilities.KubeVersion.Version }}\n"),
			want:  []string{"name: release-name", "n: \"3\"", "# Source: c/templates/t.yaml"},
		},
		{
			name:  "lookup of a Secret is empty",
			chart: chartOf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  s: {{ lookup \"v1\" \"Secret\" \"kube-system\" \"admin\" | toJson | quote }}\n  all: {{ lookup \"v1\" \"Secret\" \"\" \"\" | toJson | quote }}\n"),
			want:  []string{`s: "{}"`, `all: "{}"`},
		},
		{
			name:  "DNS is disabled",
			chart: chartOf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  ip: {{ getHostByName \"localhost\" | quote }}\n"),
			want:  []string{`ip: ""`},
		},
		{
			name: ".Files is confined to the chart",
			chart: chartOf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  up: {{ .Files.Get \"../../../../etc/hostname\" | quote }}\n  abs: {{ .Files.Get \"/etc/hostname\" | quote }}\n  own: {{ .Files.Get \"f.txt\" | quote }}\n",
				File{Name: "f.txt", Data: []byte("mine")}),
			want: []string{`up: ""`, `abs: ""`, `own: "mine"`},
		},
		{
			name: "test hooks dropped, other hooks kept, NOTES not rendered",
			chart: chartOf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n",
				File{Name: "templates/hook.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pre\n  annotations:\n    helm.sh/hook: pre-install\n")},
				File{Name: "templates/test.yaml", Data: []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: tester\n  annotations:\n    helm.sh/hook: test\n")},
				File{Name: "templates/NOTES.txt", Data: []byte("notes {{ .Release.Name }}")}),
			want:   []string{"name: plain", "name: pre"},
			absent: []string{"tester", "notes"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := Renderer{}.Render(context.Background(), tc.chart)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(string(out), a) {
					t.Errorf("output has %q:\n%s", a, out)
				}
			}
		})
	}
}

// TestRenderHostile: each hostile chart is refused with the chart (and,
// where Helm knows it, the template) named.
func TestRenderHostile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		chart  Chart
		limits Limits
		msg    []string
		limit  bool
	}{
		{
			name:  "a template that recurses forever",
			chart: chartOf("{{ define \"loop\" }}{{ include \"loop\" . }}{{ end }}{{ include \"loop\" . }}"),
			msg:   []string{"chart c", "templates/t.yaml", `include of "loop" nests more than 1000 deep`},
			limit: true,
		},
		{
			name:   "a 100 MiB render",
			chart:  chartOf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  big: {{ repeat 104857600 \"x\" }}\n"),
			limits: Limits{MaxBytes: 1 << 20},
			msg:    []string{"chart c", "templates/t.yaml", "repeat would build 104857600 bytes"},
			limit:  true,
		},
		{
			name:   "a render over the limit without repeat",
			chart:  chartOf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  big: \"{{ range $i := 300000 }}xxxxxxxx{{ end }}\"\n"),
			limits: Limits{MaxBytes: 1 << 20},
			msg:    []string{"chart c", "rendered 2400", "largest template: c/templates/t.yaml"},
			limit:  true,
		},
		{
			name:   "a huge list",
			chart:  chartOf("{{ len (until 1000000000) }}"),
			limits: Limits{MaxBytes: 1 << 20},
			msg:    []string{"chart c", "templates/t.yaml", "until would build"},
			limit:  true,
		},
		{
			name:   "a render that takes too long",
			chart:  chartOf("{{ range $i := 50000000 }}{{ end }}"),
			limits: Limits{Timeout: 100 * time.Millisecond},
			msg:    []string{"chart c", "rendering took more than 100ms"},
			limit:  true,
		},
		{
			name:  "a subchart tarball with ../ entries",
			chart: chartOf("", File{Name: "charts/evil-0.1.0.tgz", Data: tarball(t, "../evil/Chart.yaml", "apiVersion: v2\nname: evil\nversion: 0.1.0\n")}),
			msg:   []string{"chart c", "loading"},
		},
		{
			name:  "a library chart",
			chart: Chart{Name: "lib", Files: []File{{Name: "Chart.yaml", Data: []byte("apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n")}}},
			msg:   []string{"chart lib", "library charts are not installable"},
		},
		{
			name:  "a dependency not vendored",
			chart: Chart{Name: "d", Files: []File{{Name: "Chart.yaml", Data: []byte("apiVersion: v2\nname: d\nversion: 0.1.0\ndependencies:\n- name: redis\n  version: 1.0.0\n  repository: https://charts.example.com\n")}}},
			msg:   []string{"chart d", "charts/ directory", "redis"},
		},
		{
			name:  "a failing template names its line",
			chart: chartOf("a: 1\n{{ fail \"no way\" }}\n"),
			msg:   []string{"chart c", "templates/t.yaml:2", "no way"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Renderer{Limits: tc.limits}.Render(context.Background(), tc.chart)
			if err == nil {
				t.Fatal("err = nil, want a refusal")
			}
			for _, m := range tc.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("err = %q, want it to contain %q", err, m)
				}
			}
			if errors.Is(err, ErrLimit) != tc.limit {
				t.Errorf("errors.Is(err, ErrLimit) = %v, want %v (err: %v)", !tc.limit, tc.limit, err)
			}
		})
	}
}

func TestHelmIgnore(t *testing.T) {
	t.Parallel()
	c := chartOf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  files: {{ range $p, $_ := .Files.Glob \"**\" }}{{ $p }},{{ end }}\n",
		File{Name: ".helmignore", Data: []byte("*.bak\nsecret/\n")},
		File{Name: "keep.txt", Data: []byte("k")},
		File{Name: "old.bak", Data: []byte("o")},
		File{Name: "secret/key.txt", Data: []byte("s")},
		File{Name: "templates/skip.bak", Data: []byte("{{ fail \"ignored template rendered\" }}")})
	out, err := Renderer{}.Render(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "keep.txt,") {
		t.Errorf("keep.txt missing from .Files:\n%s", out)
	}
	for _, f := range []string{"old.bak", "secret/key.txt"} {
		if strings.Contains(string(out), f) {
			t.Errorf("ignored %s in .Files:\n%s", f, out)
		}
	}
}

// tarball returns a gzipped tar holding one file.
func tarball(t *testing.T, name, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
