package manifests

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capstan-gitops/capstan/internal/golden"
)

func TestRenderYAMLGolden(t *testing.T) {
	t.Parallel()
	custom := DefaultOptions("v0.2.0-rc.1")
	custom.Image = "registry.example.com:5000/team/capstan@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	custom.LogLevel = "debug"
	nodePort := DefaultOptions("v0.1.0")
	nodePort.WebhookNodePort = 32292

	tests := []struct {
		name   string
		golden string
		opts   Options
	}{
		{name: "default", golden: "render-default", opts: DefaultOptions("v0.1.0")},
		{name: "custom image and log level", golden: "render-custom", opts: custom},
		{name: "webhook on a node port", golden: "render-webhook-nodeport", opts: nodePort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := RenderYAML(tt.opts)
			if err != nil {
				t.Fatalf("RenderYAML: %v", err)
			}
			golden.Assert(t, tt.golden, got)
		})
	}
}

func TestRenderOrderAndLabels(t *testing.T) {
	t.Parallel()
	objs, err := Render(DefaultOptions("v0.1.0"))
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	type ident struct{ Kind, Namespace, Name string }
	var got []ident
	for _, obj := range objs {
		got = append(got, ident{obj.GetKind(), obj.GetNamespace(), obj.GetName()})
		labels := obj.GetLabels()
		for k, v := range commonLabels("v0.1.0") {
			if labels[k] != v {
				t.Errorf("%s %s: label %s = %q, want %q", obj.GetKind(), obj.GetName(), k, labels[k], v)
			}
		}
	}
	want := []ident{
		{"Namespace", "", Namespace},
		{"CustomResourceDefinition", "", CRDName},
		{"ServiceAccount", Namespace, ControllerName},
		{"ClusterRole", "", ControllerName},
		{"ClusterRoleBinding", "", ControllerName},
		{"Service", Namespace, WebhookServiceName},
		{"Deployment", Namespace, ControllerName},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rendered objects (-want +got):\n%s", diff)
	}
}

func TestRenderSelectorIsStable(t *testing.T) {
	t.Parallel()
	selector := func(version string) map[string]any {
		t.Helper()
		objs, err := Render(DefaultOptions(version))
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		deploy := objs[len(objs)-1]
		sel, ok := deploy.Object["spec"].(map[string]any)["selector"].(map[string]any)
		if !ok {
			t.Fatalf("deployment has no selector")
		}
		return sel
	}
	want := map[string]any{"matchLabels": map[string]any{SelectorLabel: SelectorValue}}
	for _, version := range []string{"v0.1.0", "v9.9.9"} {
		if diff := cmp.Diff(want, selector(version)); diff != "" {
			t.Errorf("selector of %s (-want +got):\n%s", version, diff)
		}
	}
}

func TestRenderNamespaceAndDefaults(t *testing.T) {
	t.Parallel()
	objs, err := Render(Options{Version: "v0.1.0", Namespace: "gitops"})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	want, err := Render(DefaultOptions("v0.1.0"))
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if got := objs[0].GetName(); got != "gitops" {
		t.Errorf("namespace name = %q, want gitops", got)
	}
	if got := objs[len(objs)-1].GetNamespace(); got != "gitops" {
		t.Errorf("deployment namespace = %q, want gitops", got)
	}
	// Apart from the namespace, empty options render like the defaults.
	gotDeploy := objs[len(objs)-1].DeepCopy()
	gotDeploy.SetNamespace(Namespace)
	if diff := cmp.Diff(want[len(want)-1].Object, gotDeploy.Object); diff != "" {
		t.Errorf("deployment with empty options (-default +got):\n%s", diff)
	}
}

func TestRenderRefusesInvalidOptions(t *testing.T) {
	t.Parallel()
	if _, err := Render(Options{}); err == nil {
		t.Fatal("Render(Options{}) succeeded, want an error")
	}
	if _, err := RenderYAML(Options{Version: "v1", LogLevel: "loud"}); err == nil {
		t.Fatal("RenderYAML with a bad log level succeeded, want an error")
	}
}
