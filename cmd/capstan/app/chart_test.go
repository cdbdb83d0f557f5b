package app

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/capstan-gitops/capstan/internal/golden"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// chartFiles is a chart web at version with a ConfigMap per name.
func webChartArchive(t *testing.T, version string, names ...string) []byte {
	files := map[string]string{"Chart.yaml": "apiVersion: v2\nname: web\nversion: " + version + "\n", "values.yaml": "greeting: hello\n"}
	for _, n := range names {
		files["templates/"+n+".yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-" + n + "\n"
	}
	return testenv.PackChart(t, "web", files)
}

// TestChartPullGolden: `capstan chart pull` with credentials from the
// environment vendors a chart, upgrades it, and without a name restores a
// deleted file and lists a modified one with exit status 1.
func TestChartPullGolden(t *testing.T) {
	h := testenv.NewChartRepo(t)
	h.Add("web", "1.0.0", webChartArchive(t, "1.0.0", "a", "b"))
	h.Add("web", "1.1.0", webChartArchive(t, "1.1.0", "a"))
	t.Setenv("CAPSTAN_CHART_USERNAME", testenv.ChartUser)
	t.Setenv("CAPSTAN_CHART_PASSWORD", h.Password())
	dir := t.TempDir()
	var out strings.Builder
	step := func(wantCode int, args ...string) {
		t.Helper()
		stdout, stderr, err := run(t, append([]string{"chart", "pull", "--dir", dir}, args...)...)
		var errOut bytes.Buffer
		code := exitCode(err, &errOut)
		out.WriteString("$ " + strings.TrimSpace("capstan chart pull "+strings.Join(args, " ")) + "\n" + stdout + stderr + errOut.String())
		if code != wantCode {
			t.Fatalf("capstan chart pull %v: exit %d, want %d: %v", args, code, wantCode, err)
		}
	}
	step(0, "web", "--repo", h.URL(), "--version", "1.0.0")
	step(0, "web", "--version", "~1.1")
	vendored := filepath.Join(dir, "charts", "web-1.1.0", "web")
	if err := os.Remove(filepath.Join(vendored, "templates", "a.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vendored, "values.yaml"), []byte("greeting: mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	step(1)
	step(0, "--force")
	step(0)
	got := out.String()
	if strings.Contains(got, h.Password()) {
		t.Errorf("the output holds the password:\n%s", got)
	}
	got = strings.ReplaceAll(got, strings.TrimPrefix(strings.TrimSuffix(h.URL(), "/"), "http://"), "REPO")
	got = regexp.MustCompile(`sha256:[0-9a-f]{64}`).ReplaceAllString(got, "sha256:…")
	golden.Assert(t, "chart-pull", []byte(got))
}

// TestChartPullPasswordStdin: --username and --password-stdin authenticate
// against an OCI registry.
func TestChartPullPasswordStdin(t *testing.T) {
	t.Parallel()
	o := testenv.NewOCIRegistry(t)
	o.Push(t, "web", "1.0.0", webChartArchive(t, "1.0.0", "a"))
	dir := t.TempDir()
	a := newApp(&bytes.Buffer{}, &bytes.Buffer{})
	a.Reader = strings.NewReader(o.Password() + "\n")
	err := a.RunContext(t.Context(), []string{"capstan", "chart", "pull", "--repo", o.Repo(), "--version", "1.0.0", "--dir", dir, "--username", testenv.ChartUser, "--password-stdin", "web"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "charts", "web-1.0.0", "web", "templates", "a.yaml")); err != nil {
		t.Error(err)
	}
}

// TestChartPullRefusals: misused flags fail with one line and a hint.
func TestChartPullRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, _, err := run(t, "chart", "pull", "--dir", dir, "--version", "1.0.0")
	wantUserError(t, err, "--version needs a chart NAME", "capstan chart pull NAME")
	_, _, err = run(t, "chart", "pull", "web", "--force", "--dir", dir)
	wantUserError(t, err, "--force is for re-pulling every entry", "always replaces")
	_, _, err = run(t, "chart", "pull", "--dir", dir)
	wantUserError(t, err, "no kustomization in "+dir, "capstan chart pull NAME")
	_, _, err = run(t, "chart", "pull", "a", "b")
	if err == nil || !strings.Contains(err.Error(), "at most one argument") {
		t.Errorf("two names: %v", err)
	}
	if errors.Is(err, os.ErrNotExist) {
		t.Error(err)
	}
}
