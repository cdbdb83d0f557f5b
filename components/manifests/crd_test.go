package manifests

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// durationPattern is the pattern every duration field of the Sync spec must carry.
const durationPattern = `^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`

func embeddedCRD(t *testing.T) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict([]byte(crdYAML), crd); err != nil {
		t.Fatalf("decoding embedded CRD: %v", err)
	}
	return crd
}

func specProps(t *testing.T) map[string]apiextensionsv1.JSONSchemaProps {
	t.Helper()
	crd := embeddedCRD(t)
	return crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties
}

func TestEmbeddedCRD(t *testing.T) {
	t.Parallel()
	crd := embeddedCRD(t)
	if crd.Name != CRDName {
		t.Errorf("name = %q, want %q", crd.Name, CRDName)
	}
	if crd.Spec.Group != capstanv1.Group || crd.Spec.Names.Kind != capstanv1.SyncKind ||
		crd.Spec.Names.Plural != capstanv1.SyncResource || crd.Spec.Scope != apiextensionsv1.NamespaceScoped {
		t.Errorf("group/kind/plural/scope = %s/%s/%s/%s", crd.Spec.Group, crd.Spec.Names.Kind, crd.Spec.Names.Plural, crd.Spec.Scope)
	}
	if diff := cmp.Diff([]string{"capstan"}, crd.Spec.Names.Categories); diff != "" {
		t.Errorf("categories (-want +got):\n%s", diff)
	}
	if len(crd.Spec.Versions) != 1 {
		t.Fatalf("versions = %d, want 1", len(crd.Spec.Versions))
	}
	v := crd.Spec.Versions[0]
	if v.Name != capstanv1.Version || !v.Served || !v.Storage {
		t.Errorf("version %s served=%t storage=%t", v.Name, v.Served, v.Storage)
	}
	if v.Subresources == nil || v.Subresources.Status == nil {
		t.Error("status subresource missing")
	}
	var columns []string
	for _, c := range v.AdditionalPrinterColumns {
		columns = append(columns, c.Name)
	}
	if diff := cmp.Diff([]string{"Ready", "Revision", "Status", "Age"}, columns); diff != "" {
		t.Errorf("printer columns (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"url"}, v.Schema.OpenAPIV3Schema.Properties["spec"].Required); diff != "" {
		t.Errorf("spec.required (-want +got):\n%s", diff)
	}
}

func TestEmbeddedCRDDefaultsAndRules(t *testing.T) {
	t.Parallel()
	props := specProps(t)
	for _, field := range []string{"interval", "retryInterval", "timeout"} {
		if got := props[field].Pattern; got != durationPattern {
			t.Errorf("%s pattern = %q, want %q", field, got, durationPattern)
		}
	}
	defaults := map[string]string{"interval": `"1m"`, "prune": "true", "wait": "true"}
	for field, want := range defaults {
		def := props[field].Default
		if def == nil || string(def.Raw) != want {
			t.Errorf("%s default = %v, want %s", field, def, want)
		}
	}
	if got := props["dependsOn"].MaxItems; got == nil || *got != 32 {
		t.Errorf("dependsOn maxItems = %v, want 32", got)
	}
	if n := len(props["path"].XValidations); n != 2 {
		t.Errorf("path has %d CEL rules, want 2", n)
	}
	if n := len(props["ref"].XValidations); n != 1 {
		t.Errorf("ref has %d CEL rules, want 1", n)
	}
}

// The API server checks patterns with Go's regexp, so matching them here shows
// what it accepts and refuses.
func TestEmbeddedCRDPatterns(t *testing.T) {
	t.Parallel()
	props := specProps(t)
	tests := []struct {
		field string
		value string
		want  bool
	}{
		{"url", "https://github.com/capstan-gitops/fleet.git", true},
		{"url", "http://127.0.0.1:3000/fleet.git", true},
		{"url", "ssh://git@github.com:22/capstan-gitops/fleet.git", true},
		{"url", "git@github.com:capstan-gitops/fleet.git", true},
		{"url", "file:///srv/git/fleet.git", false},
		{"url", "FILE:///srv/git/fleet.git", false},
		{"url", "/srv/git/fleet.git", false},
		{"url", "ftp://example.com/fleet.git", false},
		{"url", "https://example.com/a b", false},
		{"interval", "1m", true},
		{"interval", "1h30m", true},
		{"interval", "1.5s", true},
		{"interval", "500ms", true},
		{"interval", "1m0s", true},
		{"interval", "banana", false},
		{"interval", "5", false},
		{"interval", "-1m", false},
		{"interval", "", false},
		{"timeout", "10d", false},
		{"retryInterval", "30s", true},
	}
	for _, tt := range tests {
		t.Run(tt.field+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			re, err := regexp.Compile(props[tt.field].Pattern)
			if err != nil {
				t.Fatalf("compiling %s pattern: %v", tt.field, err)
			}
			if got := re.MatchString(tt.value); got != tt.want {
				t.Errorf("%s pattern matches %q = %t, want %t", tt.field, tt.value, got, tt.want)
			}
		})
	}
	commit, err := regexp.Compile(props["ref"].Properties["commit"].Pattern)
	if err != nil {
		t.Fatalf("compiling commit pattern: %v", err)
	}
	if !commit.MatchString("0123456789abcdef0123456789abcdef01234567") || commit.MatchString("main") {
		t.Errorf("commit pattern %q accepts the wrong values", commit)
	}
}

func TestCRDMatchesRender(t *testing.T) {
	t.Parallel()
	crd, err := CRD()
	if err != nil {
		t.Fatalf("CRD: %v", err)
	}
	objs, err := Render(DefaultOptions("v0.1.0"))
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	rendered := objs[1].DeepCopy()
	rendered.SetLabels(nil)
	crd.SetLabels(nil)
	if diff := cmp.Diff(crd.Object, rendered.Object); diff != "" {
		t.Errorf("rendered CRD differs from CRD() (-want +got):\n%s", diff)
	}
}
