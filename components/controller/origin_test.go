package controller

import (
	"errors"
	"fmt"
	"testing"

	ssaerrors "github.com/fluxcd/pkg/ssa/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/capstan-gitops/capstan/internal/build"
)

func TestLocateApplyErrors(t *testing.T) {
	t.Parallel()
	obj := func(apiVersion, kind, ns, name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(apiVersion)
		u.SetKind(kind)
		u.SetNamespace(ns)
		u.SetName(name)
		return u
	}
	objs := []*unstructured.Unstructured{obj("v1", "ConfigMap", "a", "x"), obj("apps/v1", "Deployment", "a", "web"), obj("v1", "Namespace", "", "a")}
	sources := []build.Source{{File: "cm.yaml", Line: 1}, {File: "web.yaml", Line: 7}, {File: "k/kustomization.yaml"}}
	cause := errors.New("field is immutable")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"dry run of a known object", ssaerrors.NewDryRunErr(cause, obj("apps/v1beta1", "Deployment", "a", "web")), "web.yaml:7: Deployment/a/web dry-run failed: field is immutable"},
		{"message naming an object", fmt.Errorf("Namespace/a apply failed: %w", cause), "k/kustomization.yaml: Namespace/a apply failed: field is immutable"},
		{"no object to blame", fmt.Errorf("stage 1: %w", cause), "stage 1: field is immutable"},
		{"dry run of an object not built", ssaerrors.NewDryRunErr(cause, obj("v1", "ConfigMap", "b", "x")), "ConfigMap/b/x dry-run failed: field is immutable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := locate(tt.err, objs, sources)
			if got.Error() != tt.want {
				t.Errorf("locate = %q, want %q", got, tt.want)
			}
			if !errors.Is(got, cause) {
				t.Errorf("locate lost the cause: %v", got)
			}
		})
	}
}
