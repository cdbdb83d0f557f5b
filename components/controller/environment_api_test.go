package controller

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/internal/build"
)

// TestAPIServerValidatesEnvironmentFields covers the schema of the fields
// for environments: what the API server refuses, and what it takes.
func TestAPIServerValidatesEnvironmentFields(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	const url = `"url":"https://example.com/r.git","suspend":true`
	tests := []struct {
		name string
		spec string
		want string // "" means accepted
	}{
		{"semver range", `"ref":{"semver":">=1.0.0 <2.0.0"}`, ""},
		{"semver or", `"ref":{"semver":"^1.0 || ^2.0-rc.0"}`, ""},
		{"semver that does not parse", `"ref":{"semver":"latest"}`, "spec.ref.semver"},
		{"semver with a dangling operator", `"ref":{"semver":">="}`, "spec.ref.semver"},
		{"semver beside branch", `"ref":{"semver":">=1.0.0","branch":"main"}`, "at most one of branch, tag, semver and commit"},
		{"semver beside tag", `"ref":{"semver":">=1.0.0","tag":"v1.0.0"}`, "at most one of branch, tag, semver and commit"},
		{"semver beside commit", `"ref":{"semver":">=1.0.0","commit":"` + strings.Repeat("a", 40) + `"}`, "at most one of branch, tag, semver and commit"},
		{"substitute", `"postBuild":{"substitute":{"TAG":"v1","_x":""},"substituteFrom":[{"kind":"ConfigMap","name":"vars"},{"kind":"Secret","name":"s","optional":true}]}`, ""},
		{"empty substitute key", `"postBuild":{"substitute":{"":"v"}}`, "substitute keys must be variable names"},
		{"substitute key with a dash", `"postBuild":{"substitute":{"A-B":"v"}}`, "substitute keys must be variable names"},
		{"substituteFrom of another kind", `"postBuild":{"substituteFrom":[{"kind":"Pod","name":"p"}]}`, "spec.postBuild.substituteFrom[0].kind"},
		{"substituteFrom without a name", `"postBuild":{"substituteFrom":[{"kind":"Secret","name":""}]}`, "spec.postBuild.substituteFrom[0].name"},
		{"target namespace", `"targetNamespace":"production","targetNamespaceMode":"default"`, ""},
		{"invalid namespace name", `"targetNamespace":"Prod_1"`, "spec.targetNamespace"},
		{"namespace name too long", `"targetNamespace":"` + strings.Repeat("n", 64) + `"`, "spec.targetNamespace"},
		{"unknown namespace mode", `"targetNamespace":"p","targetNamespaceMode":"override"`, "spec.targetNamespaceMode"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := `{"apiVersion":"capstan.dev/v1","kind":"Sync","metadata":{"name":"env-` + string(rune('a'+i)) + `","namespace":"` + ns + `"},"spec":{` + url + `,` + tt.spec + `}}`
			err := env.admin.Create(t.Context(), rawSync([]byte(body)))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %.400v, want a refusal naming %q", err, tt.want)
			}
		})
	}
}

// TestCreateSyncExportsApplyUnchanged: every golden export of `capstan
// create sync` (one per flag, cmd/capstan/app/testdata) is taken by the
// API server as printed. A server-side dry run checks the schema and the
// CEL rules without starting a reconcile.
func TestCreateSyncExportsApplyUnchanged(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../cmd/capstan/app/testdata/create-sync-*.golden")
	if err != nil || len(files) < 14 {
		t.Fatalf("found %d golden exports (%v), want one per flag", len(files), err)
	}
	for _, ns := range []string{"capstan-system", "apps"} {
		err := env.admin.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := build.Decode(f, data)
			if err != nil || len(objs) != 1 || objs[0].GetKind() != "Sync" {
				t.Fatalf("decoding the export: %d objects, %v", len(objs), err)
			}
			if err := env.admin.Create(t.Context(), objs[0], client.DryRunAll); err != nil {
				t.Errorf("the API server refuses the export:\n%s\n%v", data, err)
			}
		})
	}
}
