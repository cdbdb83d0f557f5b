package postbuild

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/capstan-gitops/capstan/internal/build"
)

// TestExampleGreeterOverlays builds examples/dwk's staging and production
// overlays as the controller does and substitutes their variables.
func TestExampleGreeterOverlays(t *testing.T) {
	t.Parallel()
	hash := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		overlay, revision, tag, environment string
		wantImage, wantEnv                  string
	}{
		{"staging", "main@sha1:" + hash, "", "", "ghcr.io/example/greeter:main", "staging"},
		{"production", "v1.2.0@sha1:" + hash, "v1.2.0", "production", "ghcr.io/example/greeter:v1.2.0", "production"},
	}
	for _, tt := range tests {
		t.Run(tt.overlay, func(t *testing.T) {
			t.Parallel()
			objs, err := build.Build(t.Context(), "../../examples/dwk", "apps/greeter/overlays/"+tt.overlay, build.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			values := Builtins(tt.revision, tt.tag)
			if tt.environment != "" {
				values["ENVIRONMENT"] = tt.environment
			}
			out, err := Variables{values: values}.Substitute(objs, nil)
			if err != nil || len(out) != 1 {
				t.Fatalf("substituting: %d objects, %v", len(out), err)
			}
			containers, _, _ := unstructured.NestedSlice(out[0].Object, "spec", "template", "spec", "containers")
			c := containers[0].(map[string]any)
			env := c["env"].([]any)
			if c["image"] != tt.wantImage || env[0].(map[string]any)["value"] != tt.wantEnv || env[1].(map[string]any)["value"] != "0123456" {
				t.Errorf("container = %v, want image %s, ENVIRONMENT %s, REVISION 0123456", c, tt.wantImage, tt.wantEnv)
			}
		})
	}
}
