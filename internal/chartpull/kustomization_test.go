package chartpull

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capstan-gitops/capstan/internal/golden"
)

// TestSetChartGolden: pinning an entry keeps the file's comments, other
// fields and list indentation; a new entry is appended with releaseName;
// a missing file becomes a minimal kustomization.
func TestSetChartGolden(t *testing.T) {
	t.Parallel()
	commented := `# NATS for the course's messaging exercises.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: nats # everything lands here
helmGlobals: {chartHome: vendor}
helmCharts:
# the broker
- name: nats
  version: 1.3.1 # bumped by capstan chart pull
  repo: https://nats-io.github.io/k8s/helm/charts/
  releaseName: nats
  valuesInline:
    config: {jetstream: {enabled: true}}
  includeCRDs: true
- name: other
  version: "2.0"
  repo: https://example.com/charts/
resources:
  - extra.yaml   # a wide list elsewhere
patches:
- path: patch.yaml
`
	wide := "resources:\n  - a.yaml\n"
	cases := []struct {
		name, in string
		e        Entry
		old      []string
	}{
		{"update-keeps-comments", commented, Entry{Name: "nats", Version: "1.4.0", Repo: "oci://registry.example.com/charts", ReleaseName: "nats"}, []string{"1.3.1"}},
		{"add-entry", commented, Entry{Name: "redis", Version: "1.10", Repo: "https://charts.example.com/", ReleaseName: "redis"}, nil},
		{"add-to-wide-file", wide, Entry{Name: "web", Version: "0.1.0", Repo: "https://charts.example.com/", ReleaseName: "web"}, nil},
		{"new-file", "", Entry{Name: "web", Version: "0.1.0", Repo: "https://charts.example.com/", ReleaseName: "web"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out, old, err := SetChart([]byte(c.in), c.e)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.old, old); diff != "" {
				t.Errorf("old versions (-want +got):\n%s", diff)
			}
			golden.Assert(t, "kustomization-"+c.name, out)
			k, err := ReadKustomization(out)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range k.Entries {
				found = found || e == c.e
			}
			if !found {
				t.Errorf("entry %+v not in %+v", c.e, k.Entries)
			}
		})
	}
}

// TestSetChartRefuses: SetChart refuses what ReadKustomization refuses,
// rather than writing a file that cannot be read back.
func TestSetChartRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, wantErr string }{
		{"empty entry", "helmCharts:\n-\n", "line 2: a helmCharts entry is not a mapping"},
		{"scalar entry", "helmCharts:\n- name: a\n- b\n", "line 3: a helmCharts entry is not a mapping"},
		{"not a list", "helmCharts: {name: a}\n", "line 1: helmCharts is not a list"},
		{"two documents", "a: 1\n---\nb: 2\n", "more than one YAML document"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := SetChart([]byte(c.in), Entry{Name: "a", Version: "1.0.0"})
			if err == nil || err.Error() != c.wantErr {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
		})
	}
}

func TestReadKustomization(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		want     Kustomization
		wantErr  bool
	}{
		{"empty", "", Kustomization{ChartHome: "charts"}, false},
		{"chartHome", "helmGlobals:\n  chartHome: vendor\nhelmCharts:\n- name: a\n  version: 1.0.0\n  repo: https://x/\n- name: b\n", Kustomization{ChartHome: "vendor", Entries: []Entry{{Name: "a", Version: "1.0.0", Repo: "https://x/"}, {Name: "b"}}}, false},
		{"not a list", "helmCharts: {name: a}\n", Kustomization{}, true},
		{"two documents", "a: 1\n---\nb: 2\n", Kustomization{}, true},
		{"not a mapping", "- a\n", Kustomization{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadKustomization([]byte(c.in))
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v", err)
			}
			if err == nil {
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

// FuzzSetChart: whatever kustomization SetChart accepts, the result reads
// back with the entry pinned.
func FuzzSetChart(f *testing.F) {
	f.Add([]byte("helmCharts:\n- name: web\n  version: 1.0.0 # c\n"), "web", "2.0.0")
	f.Add([]byte("# c\nresources:\n  - a.yaml\n"), "x", "1.10")
	f.Fuzz(func(t *testing.T, data []byte, name, version string) {
		if name == "" || version == "" {
			return
		}
		out, _, err := SetChart(data, Entry{Name: name, Version: version, Repo: "https://charts.example.com/", ReleaseName: name})
		if err != nil {
			return
		}
		k, err := ReadKustomization(out)
		if err != nil {
			t.Fatalf("reading back %q: %v", out, err)
		}
		for _, e := range k.Entries {
			if e.Name == name && e.Version != version {
				t.Fatalf("entry %q at %q, want %q, in\n%s", name, e.Version, version, out)
			}
		}
	})
}
