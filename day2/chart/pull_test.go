package chart

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/capstan-gitops/capstan/internal/chartpull"
	"github.com/capstan-gitops/capstan/internal/golden"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// webChart is chart web at version: a ConfigMap per name.
func webChart(t *testing.T, version string, names ...string) []byte {
	files := map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: web\nversion: " + version + "\n",
		"values.yaml": "greeting: hello\n",
	}
	for _, n := range names {
		files["templates/"+n+".yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-" + n + "\ndata:\n  version: " + version + "\n"
	}
	return testenv.PackChart(t, "web", files)
}

// mask replaces the servers' ports and the digests in out.
func mask(out, repo string) string {
	out = strings.ReplaceAll(out, strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(repo, "oci://"), "http://"), "/"), "REPO")
	return regexp.MustCompile(`sha256:[0-9a-f]{64}`).ReplaceAllString(out, "sha256:…")
}

func read(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestPullUpgradeAndRepull: pulling vendors the chart and adds its entry
// (keeping the kustomization's comments); pulling a newer version pins it
// and removes the old tree; re-pulling without a name restores a deleted
// file and reports a modified one, which --force replaces.
func TestPullUpgradeAndRepull(t *testing.T) {
	t.Parallel()
	h := testenv.NewChartRepo(t)
	o := testenv.NewOCIRegistry(t)
	for _, s := range []struct {
		name, repo, password string
		publish              func(v string, archive []byte)
	}{
		{"http", h.URL(), h.Password(), func(v string, a []byte) { h.Add("web", v, a) }},
		{"oci", o.Repo(), o.Password(), func(v string, a []byte) { o.Push(t, "web", v, a) }},
	} {
		t.Run(s.name, func(t *testing.T) {
			s.publish("1.0.0", webChart(t, "1.0.0", "a", "b"))
			s.publish("2.0.0", webChart(t, "2.0.0", "a", "c"))
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("# the web add-on\nnamespace: web # its own\nresources:\n- ns.yaml\n"), 0o640); err != nil {
				t.Fatal(err)
			}
			creds := Credentials{Username: testenv.ChartUser, Password: s.password}
			var out bytes.Buffer
			if err := Pull(t.Context(), PullOptions{Dir: dir, Name: "web", Repo: s.repo, Version: "1.0.0", Creds: creds}, &out); err != nil {
				t.Fatal(err)
			}
			if got := read(t, filepath.Join(dir, "charts/web-1.0.0/web/templates/b.yaml")); !strings.Contains(got, "version: 1.0.0") {
				t.Errorf("vendored b.yaml: %s", got)
			}
			if err := Pull(t.Context(), PullOptions{Dir: dir, Name: "web", Version: "2.0.0", Creds: creds}, &out); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "charts/web-1.0.0")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the old version's tree is still there: %v", err)
			}
			k := read(t, filepath.Join(dir, "kustomization.yaml"))
			if st, _ := os.Stat(filepath.Join(dir, "kustomization.yaml")); st.Mode().Perm() != 0o640 {
				t.Errorf("kustomization.yaml mode %v", st.Mode())
			}
			golden.Assert(t, "pull-"+s.name, []byte(mask(out.String()+"--- kustomization.yaml\n"+k, s.repo)))

			vendored := filepath.Join(dir, "charts/web-2.0.0/web")
			if err := os.Remove(filepath.Join(vendored, "templates/c.yaml")); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(vendored, "values.yaml"), []byte("greeting: changed by hand\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			report, err := Repull(t.Context(), RepullOptions{Dir: dir, Creds: creds})
			if err != nil {
				t.Fatal(err)
			}
			if !report.Differs() || len(report) != 1 || strings.Join(report[0].Restored, " ") != "web/templates/c.yaml" || strings.Join(report[0].Modified, " ") != "web/values.yaml" {
				t.Errorf("report %+v", report)
			}
			if read(t, filepath.Join(vendored, "values.yaml")) != "greeting: changed by hand\n" || !strings.Contains(read(t, filepath.Join(vendored, "templates/c.yaml")), "2.0.0") {
				t.Error("re-pull did not restore c.yaml, or overwrote the modified values.yaml")
			}
			var printed bytes.Buffer
			report.Print(&printed)
			golden.Assert(t, "repull-"+s.name, []byte(mask(printed.String(), s.repo)))
			report, err = Repull(t.Context(), RepullOptions{Dir: dir, Creds: creds, Force: true})
			if err != nil || report.Differs() || read(t, filepath.Join(vendored, "values.yaml")) != "greeting: hello\n" {
				t.Errorf("--force: %v, %+v", err, report)
			}
			report, err = Repull(t.Context(), RepullOptions{Dir: dir, Creds: creds})
			if err != nil || report.Differs() || len(report[0].Restored) != 0 {
				t.Errorf("after --force: %v, %+v", err, report)
			}
		})
	}
}

// TestPullRefusals: each refusal is one line with a hint, and nothing is
// written; no password appears in any of them.
func TestPullRefusals(t *testing.T) {
	t.Parallel()
	h := testenv.NewChartRepo(t)
	h.Add("web", "1.0.0", webChart(t, "1.0.0", "a"))
	h.AddWithDigest("bad", "1.0.0", webChart(t, "1.0.0", "a"), testenv.Digest([]byte("other")))
	h.Add("evil", "1.0.0", testenv.Tgz(t, testenv.TarEntry{Name: "evil/Chart.yaml", Body: "apiVersion: v2\nname: evil\nversion: 1.0.0\n"}, testenv.TarEntry{Name: "evil/../../escape.yaml", Body: "x"}))
	creds := Credentials{Username: testenv.ChartUser, Password: h.Password()}
	cases := []struct {
		name     string
		opts     PullOptions
		kust     string
		msg      string
		hint     string
		sentinel error
	}{
		{"no credentials", PullOptions{Name: "web", Repo: h.URL(), Version: "1.0.0"}, "", "401 Unauthorized", "CAPSTAN_CHART_USERNAME", chartpull.ErrUnauthorized},
		{"no version", PullOptions{Name: "web", Repo: h.URL(), Creds: creds}, "", "--repo and --version are required", "--version", nil},
		{"unknown version", PullOptions{Name: "web", Repo: h.URL(), Version: "9.9.9", Creds: creds}, "", `chart "web" version 9.9.9: not found (it has 1.0.0)`, "check the chart's name", chartpull.ErrNotFound},
		{"digest", PullOptions{Name: "bad", Repo: h.URL(), Version: "1.0.0", Creds: creds}, "", "digest mismatch", "nothing was written", chartpull.ErrDigest},
		{"traversal", PullOptions{Name: "evil", Repo: h.URL(), Version: "1.0.0", Creds: creds}, "", `entry "evil/../../escape.yaml": a path that leaves the chart`, "not safe to unpack", chartpull.ErrUnsafe},
		{"chartHome outside", PullOptions{Name: "web", Repo: h.URL(), Version: "1.0.0", Creds: creds}, "helmGlobals: {chartHome: ../shared}\n", `helmGlobals.chartHome "../shared" is outside`, "inside the kustomization's directory", nil},
		{"bad name", PullOptions{Name: "../web", Repo: h.URL(), Version: "1.0.0", Creds: creds}, "", `"../web" is not a chart name`, "name the chart", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if c.kust != "" {
				if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(c.kust), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c.opts.Dir = dir
			err := Pull(t.Context(), c.opts, &bytes.Buffer{})
			var ue *UserError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.msg) || !strings.Contains(ue.Hint(), c.hint) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v (hint %q), want %q with a hint about %q", err, hintOf(err), c.msg, c.hint)
			}
			if c.sentinel != nil && !errors.Is(err, c.sentinel) {
				t.Errorf("err %v is not %v", err, c.sentinel)
			}
			if strings.Contains(err.Error()+hintOf(err), h.Password()) {
				t.Errorf("the password is in %v", err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) > 0 && c.kust == "" {
				t.Errorf("%d files written", len(entries))
			}
		})
	}
}

func hintOf(err error) string {
	var ue *UserError
	if errors.As(err, &ue) {
		return ue.Hint()
	}
	return ""
}

// TestRepullRefusesCredentialsForSeveralHosts: with credentials and
// entries from two hosts, re-pulling refuses rather than send them to both.
func TestRepullRefusesCredentialsForSeveralHosts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k := "helmCharts:\n- name: a\n  version: 1.0.0\n  repo: https://one.example.com/\n- name: b\n  version: 1.0.0\n  repo: oci://two.example.com/charts\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Repull(t.Context(), RepullOptions{Dir: dir, Creds: Credentials{Username: "u", Password: "p"}})
	if !strings.Contains(err.Error(), "several hosts (one.example.com, two.example.com)") {
		t.Fatalf("err %v", err)
	}
}
