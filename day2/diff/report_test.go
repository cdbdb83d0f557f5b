package diff

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/capstan-gitops/capstan/internal/apply"
	"github.com/capstan-gitops/capstan/internal/golden"
	"github.com/capstan-gitops/capstan/internal/output"
)

func object(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

const liveDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: web
  uid: 6f1c
  resourceVersion: "812"
  generation: 4
  creationTimestamp: "2026-03-01T12:00:00Z"
  managedFields: [{manager: capstan, operation: Apply}]
  labels: {capstan.dev/sync-name: web, capstan.dev/sync-namespace: capstan-system}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
status:
  replicas: 3
`

const liveSecret = `apiVersion: v1
kind: Secret
metadata: {name: token, namespace: web}
data: {token: b25l, same: c2FtZQ==}
`

// report is a diff with one of each action, built from real objects.
func report(t *testing.T) Report {
	t.Helper()
	live, merged := object(t, liveDeployment), object(t, liveDeployment)
	_ = unstructured.SetNestedField(merged.Object, int64(1), "spec", "replicas")
	_ = unstructured.SetNestedField(merged.Object, int64(5), "metadata", "generation")
	depDiff, err := unified("Deployment/web/web", live, merged)
	if err != nil {
		t.Fatal(err)
	}
	oldSecret, newSecret := object(t, liveSecret), object(t, liveSecret)
	_ = unstructured.SetNestedField(newSecret.Object, "dHdv", "data", "token")
	if err := ssa.SanitizeUnstructuredData(oldSecret, newSecret); err != nil {
		t.Fatal(err)
	}
	secretDiff, err := unified("Secret/web/token", oldSecret, newSecret)
	if err != nil {
		t.Fatal(err)
	}
	rep := Report{Sync: "capstan-system/web", Source: "main@sha1:0123456789abcdef0123456789abcdef01234567", Unchanged: 7, Changes: []Change{
		{Object: "ConfigMap/web/old", Ref: apply.Ref{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "old"}, Action: Pruned},
		{Object: "Deployment/web/web", Ref: apply.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "web", Name: "web"}, Action: Changed, Diff: depDiff},
		{Object: "Secret/web/token", Ref: apply.Ref{Version: "v1", Kind: "Secret", Namespace: "web", Name: "token"}, Action: Changed, Diff: secretDiff},
		{Object: "ConfigMap/web/new", Ref: apply.Ref{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "new"}, Action: Created},
	}}
	rep.sort()
	return rep
}

func TestPrintGolden(t *testing.T) {
	t.Parallel()
	for _, format := range []string{output.Text, output.JSON} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			rep := report(t)
			var b bytes.Buffer
			if err := Print(&b, format, rep); err != nil {
				t.Fatal(err)
			}
			b.WriteString("# stderr: " + Summary(rep) + "\n")
			golden.Assert(t, "diff-"+format, b.Bytes())
			for _, secret := range []string{"b25l", "dHdv", "c2FtZQ=="} {
				if strings.Contains(b.String(), secret) {
					t.Errorf("output shows Secret data %q", secret)
				}
			}
			for _, noise := range []string{"managedFields", "resourceVersion", "generation", "uid:", "status:"} {
				if strings.Contains(b.String(), noise) {
					t.Errorf("output shows %q", noise)
				}
			}
		})
	}
}

func TestSummaryWithoutChanges(t *testing.T) {
	t.Parallel()
	got := Summary(Report{Sync: "capstan-system/web", Source: "./apps/web", Unchanged: 4})
	if want := "✓ no differences: 4 objects of capstan-system/web unchanged (./apps/web)"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

func TestLocate(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	for _, d := range []string{".git", "clusters/dwk", "plain"} {
		if err := os.MkdirAll(filepath.Join(repo, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(repo, "file.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	real, err := filepath.EvalSymlinks(repo)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, wantRoot, wantDir, wantErr string
	}{
		{name: "inside a work tree", path: filepath.Join(repo, "clusters/dwk"), wantRoot: real, wantDir: "clusters/dwk"},
		{name: "the work tree itself", path: repo, wantRoot: real, wantDir: "."},
		{name: "a file", path: filepath.Join(repo, "file.yaml"), wantErr: "is not a directory"},
		{name: "missing", path: filepath.Join(repo, "nope"), wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root, dir, err := locate(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || root != tt.wantRoot || dir != tt.wantDir {
				t.Errorf("locate = %q, %q, %v; want %q, %q", root, dir, err, tt.wantRoot, tt.wantDir)
			}
		})
	}
}
