package postbuild

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/substitute"
)

func TestBuiltins(t *testing.T) {
	t.Parallel()
	hash := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		revision, tag string
		want          map[string]string
	}{
		{"v1.2.0@sha1:" + hash, "v1.2.0", map[string]string{
			"CAPSTAN_REVISION": "v1.2.0@sha1:" + hash, "CAPSTAN_COMMIT": hash, "CAPSTAN_COMMIT_SHORT": "0123456",
			"CAPSTAN_REF": "v1.2.0", "CAPSTAN_TAG": "v1.2.0",
		}},
		{"main@sha1:" + hash, "", map[string]string{
			"CAPSTAN_REVISION": "main@sha1:" + hash, "CAPSTAN_COMMIT": hash, "CAPSTAN_COMMIT_SHORT": "0123456",
			"CAPSTAN_REF": "main", "CAPSTAN_TAG": "",
		}},
		{"sha1:" + hash, "", map[string]string{
			"CAPSTAN_REVISION": "sha1:" + hash, "CAPSTAN_COMMIT": hash, "CAPSTAN_COMMIT_SHORT": "0123456",
			"CAPSTAN_REF": "", "CAPSTAN_TAG": "",
		}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, Builtins(tt.revision, tt.tag)); diff != "" {
			t.Errorf("Builtins(%s) (-want +got):\n%s", tt.revision, diff)
		}
	}
}

func cm(name, value string, annotations map[string]any) *unstructured.Unstructured {
	meta := map[string]any{"name": name}
	if annotations != nil {
		meta["annotations"] = annotations
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": map[string]any{"v": value},
	}}
}

func TestSubstitute(t *testing.T) {
	t.Parallel()
	v := Variables{values: map[string]string{"TAG": "v1", "PASSWORD": "s3cret-value"}, secrets: []string{"s3cret-value"}}
	off := map[string]any{capstanv1.SubstituteAnnotation: capstanv1.SubstituteDisabledValue}
	in := []*unstructured.Unstructured{cm("a", "${TAG}", nil), cm("script", "echo ${HOME}", off), cm("b", "${PASSWORD}", nil)}
	got, err := v.Substitute(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	values := []string{}
	for _, o := range got {
		s, _, _ := unstructured.NestedString(o.Object, "data", "v")
		values = append(values, s)
	}
	if diff := cmp.Diff([]string{"v1", "echo ${HOME}", "s3cret-value"}, values); diff != "" {
		t.Errorf("substituted values (-want +got):\n%s", diff)
	}
	if s, _, _ := unstructured.NestedString(in[0].Object, "data", "v"); s != "${TAG}" {
		t.Errorf("input changed: %q", s)
	}

	_, err = v.Substitute([]*unstructured.Unstructured{cm("a", "ok", nil), cm("b", "${NOPE}", nil)}, nil)
	var oe *ObjectError
	var undef *substitute.UndefinedError
	if !errors.As(err, &oe) || oe.Index != 1 || !errors.As(err, &undef) || undef.Name != "NOPE" {
		t.Errorf("err = %v, want NOPE undefined in object 1", err)
	}
	if got := v.MaskText(`spec: Invalid value: "s3cret-value"`); got != `spec: Invalid value: "***"` {
		t.Errorf("MaskText = %q", got)
	}
}

func TestTargetNamespace(t *testing.T) {
	t.Parallel()
	sync := func(target string) *capstanv1.Sync {
		s := &capstanv1.Sync{}
		s.Namespace, s.Spec.TargetNamespace = "capstan-system", target
		return s
	}
	declared := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "prod"}}}
	if ns := TargetNamespace(sync("prod"), []*unstructured.Unstructured{cm("a", "", nil)}); ns == nil || ns.GetName() != "prod" || ns.GetKind() != "Namespace" {
		t.Errorf("undeclared target: got %v, want Namespace prod", ns)
	}
	for name, tt := range map[string]struct {
		s    *capstanv1.Sync
		objs []*unstructured.Unstructured
	}{
		"no target":       {sync(""), nil},
		"declared in git": {sync("prod"), []*unstructured.Unstructured{declared}},
		"the Sync's own":  {sync("capstan-system"), nil},
	} {
		if ns := TargetNamespace(tt.s, tt.objs); ns != nil {
			t.Errorf("%s: got %v, want none", name, ns)
		}
	}
}

// Without spec.postBuild, Read gives the built-ins alone and they replace
// only references to themselves: shell text is applied as written. With
// it, a reference written unquoted as a whole value takes its YAML type,
// except for a built-in.
func TestReadWithAndWithoutPostBuild(t *testing.T) {
	t.Parallel()
	hash := "1234567089abcdef0123456789abcdef01234567"
	s := &capstanv1.Sync{}
	s.Namespace = "ns"
	objs := []*unstructured.Unstructured{cm("a", "app:${CAPSTAN_TAG} $HOME ${FOO} $${BAR}", nil)}
	vars, err := Read(t.Context(), nil, s, "v1.2.0@sha1:"+hash, "v1.2.0")
	if err != nil {
		t.Fatal(err)
	}
	got, err := vars.Substitute(objs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := unstructured.NestedString(got[0].Object, "data", "v"); v != "app:v1.2.0 $HOME ${FOO} $${BAR}" {
		t.Errorf("without postBuild: %q", v)
	}

	s.Spec.PostBuild = &capstanv1.PostBuild{Substitute: map[string]string{"N": "3"}}
	if vars, err = Read(t.Context(), nil, s, "v1.2.0@sha1:"+hash, "v1.2.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := vars.Substitute(objs, nil); err == nil {
		t.Error("with postBuild, ${FOO} undefined was not refused")
	}
	typed := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"replicas": "${N}", "short": "${CAPSTAN_COMMIT_SHORT}"}}}
	got, err = vars.Substitute([]*unstructured.Unstructured{typed}, []build.Source{{Typed: []string{"spec.replicas", "spec.short"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"replicas": int64(3), "short": "1234567"}
	if diff := cmp.Diff(want, got[0].Object["spec"]); diff != "" {
		t.Errorf("typed (-want +got):\n%s", diff)
	}
}
