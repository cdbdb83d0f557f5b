package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// TestAPIDocUpToDate keeps docs/api.md in step with the CRD: the committed
// file must be exactly what the generator writes from the committed CRD.
func TestAPIDocUpToDate(t *testing.T) {
	t.Parallel()
	crdPath := "components/manifests/crd/capstan.dev_syncs.yaml"
	crd, err := os.ReadFile(filepath.Join("..", "..", crdPath))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Render(crd, crdPath)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("docs/api.md is not what the CRD generates; run `go run ./hack/apidoc` (-generated +committed):\n%s", diff)
	}
}

// TestExampleIsASync decodes the reference's example strictly into the Go
// type: a misspelt or removed field fails.
func TestExampleIsASync(t *testing.T) {
	t.Parallel()
	s := &capstanv1.Sync{}
	if err := yaml.UnmarshalStrict([]byte(Example), s); err != nil {
		t.Fatalf("the example is not a valid Sync: %v", err)
	}
	if s.Spec.URL == "" || s.Kind != capstanv1.SyncKind || s.APIVersion != capstanv1.GroupVersion.String() {
		t.Errorf("the example lacks its url, kind or apiVersion: %+v", s)
	}
}

const fixtureCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Cluster
  versions:
  - name: v2
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        description: Widget is a test kind.
        type: object
        required: [spec]
        properties:
          spec:
            description: Spec of a widget.
            type: object
            required: [size]
            properties:
              size:
                description: |-
                  Size of the widget. Second
                  sentence.
                type: string
                enum: [small, large]
                default: small
              parts:
                description: Parts, in order.
                type: array
                maxItems: 3
                x-kubernetes-list-type: atomic
                items:
                  type: object
                  properties:
                    name:
                      description: Name as "<part>|<n>".
                      type: string
                      minLength: 1
                      maxLength: 9
                      pattern: ^(a|b)$
                  x-kubernetes-validations:
                  - rule: self.name != 'c'
                    message: no c
`

func TestRenderFields(t *testing.T) {
	t.Parallel()
	out, err := Render([]byte(fixtureCRD), "widgets.yaml")
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	doc := string(out)
	tests := []struct{ name, want string }{
		{"title", "# The Widget API reference\n"},
		{"source", "from widgets.yaml."},
		{"scope and version", "`Widget` is a cluster resource of the API group `example.com`, version `v2` (`apiVersion: example.com/v2`)."},
		{"summary row with default", "| [`spec.size`](#specsize) | string | `small` | Size of the widget. |"},
		{"nested array row, escaped", "| [`spec.parts[].name`](#specpartsname) | string |  | Name as \"&lt;part&gt;\\|&lt;n&gt;\". |"},
		{"facts of a required enum", "### `spec.size`\n\n`string` · required · default `small` · one of `small`, `large`\n\nSize of the widget. Second\nsentence.\n"},
		{"facts of an array", "### `spec.parts`\n\n`[]object` · at most 3 items · list type `atomic`\n"},
		{"facts of a string", "### `spec.parts[].name`\n\n`string` · 1 to 9 characters · pattern `^(a|b)$`\n"},
		{"reasons", "writes only these reasons:\n`Succeeded`, `Progressing`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(doc, tt.want) {
				t.Errorf("the reference lacks %q:\n%s", tt.want, doc)
			}
		})
	}
	if strings.Contains(doc, "status") {
		t.Errorf("a CRD without status got a status section:\n%s", doc)
	}
}

func TestRenderRefusesACRDWithoutSchema(t *testing.T) {
	t.Parallel()
	_, err := Render([]byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x.example.com\nspec:\n  group: example.com\n  names: {kind: X, plural: xs}\n  scope: Namespaced\n  versions: []\n"), "x.yaml")
	if err == nil || !strings.Contains(err.Error(), "no version with an OpenAPI schema") {
		t.Fatalf("err = %v, want a missing schema error", err)
	}
}
