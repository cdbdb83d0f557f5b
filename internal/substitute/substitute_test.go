package substitute

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	yaml "go.yaml.in/yaml/v3"
)

func TestString(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"TAG": "v1.2.0", "EMPTY": "", "_x1": "u"}
	tests := []struct {
		name, in, want string
		undefined      string
		syntax         bool
	}{
		{name: "no reference", in: "plain $HOME text", want: "plain $HOME text"},
		{name: "one variable", in: "app:${TAG}", want: "app:v1.2.0"},
		{name: "twice", in: "${TAG}-${TAG}", want: "v1.2.0-v1.2.0"},
		{name: "underscore name", in: "${_x1}", want: "u"},
		{name: "default unused", in: "${TAG:=x}", want: "v1.2.0"},
		{name: "default for undefined", in: "${NOPE:=x}", want: "x"},
		{name: "default for empty", in: "${EMPTY:=x}", want: "x"},
		{name: "empty default", in: "a${NOPE:=}b", want: "ab"},
		{name: "default with colon and spaces", in: "${NOPE:=a: b=c}", want: "a: b=c"},
		{name: "defined empty", in: "[${EMPTY}]", want: "[]"},
		{name: "escape", in: "$${TAG}", want: "${TAG}"},
		{name: "escape of undefined", in: "echo $${NOPE}", want: "echo ${NOPE}"},
		{name: "double dollar kept", in: "pid $$ and $", want: "pid $$ and $"},
		{name: "trailing dollar", in: "cost 5$", want: "cost 5$"},
		{name: "value is not substituted again", in: "${A}", want: "${TAG}"},
		{name: "undefined", in: "image: ${NOPE}", undefined: "NOPE"},
		{name: "undefined after a good one", in: "${TAG}${NOPE}", undefined: "NOPE"},
		{name: "unterminated", in: "${TAG", syntax: true},
		{name: "empty name", in: "${}", syntax: true},
		{name: "bad name", in: "${1X}", syntax: true},
		{name: "shell default", in: "${TAG:-x}", syntax: true},
		{name: "space in name", in: "${T AG}", syntax: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := vars
			if tt.name == "value is not substituted again" {
				v = map[string]string{"A": "${TAG}", "TAG": "no"}
			}
			got, err := String(tt.in, "data.x", v)
			var undef *UndefinedError
			var syn *SyntaxError
			switch {
			case tt.undefined != "":
				if !errors.As(err, &undef) || undef.Name != tt.undefined || undef.Field != "data.x" {
					t.Fatalf("String(%q) = %q, %v; want undefined %s", tt.in, got, err, tt.undefined)
				}
				if !strings.Contains(err.Error(), tt.undefined) {
					t.Errorf("error %q does not name %s", err, tt.undefined)
				}
			case tt.syntax:
				if !errors.As(err, &syn) {
					t.Fatalf("String(%q) = %q, %v; want a syntax error", tt.in, got, err)
				}
			case err != nil:
				t.Fatalf("String(%q): %v", tt.in, err)
			case got != tt.want:
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestObject(t *testing.T) {
	t.Parallel()
	in := map[string]any{
		"kind": "Deployment",
		"spec": map[string]any{
			"replicas": int64(2),
			"paused":   false,
			"template": map[string]any{"spec": map[string]any{"containers": []any{
				map[string]any{"name": "app", "image": "r/app:${TAG}", "args": []any{"--env=${ENV:=dev}", nil}},
			}}},
		},
		"metadata": map[string]any{"labels": map[string]any{"${TAG}": "key untouched"}},
	}
	got, err := Object(in, Options{Vars: map[string]string{"TAG": "v1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"kind": "Deployment",
		"spec": map[string]any{
			"replicas": int64(2),
			"paused":   false,
			"template": map[string]any{"spec": map[string]any{"containers": []any{
				map[string]any{"name": "app", "image": "r/app:v1", "args": []any{"--env=dev", nil}},
			}}},
		},
		"metadata": map[string]any{"labels": map[string]any{"${TAG}": "key untouched"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Object (-want +got):\n%s", diff)
	}
	if in["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"] != "r/app:${TAG}" {
		t.Error("Object changed its input")
	}
	_, err = Object(in, Options{})
	var undef *UndefinedError
	if !errors.As(err, &undef) || undef.Field != "spec.template.spec.containers[0].image" || undef.Name != "TAG" {
		t.Errorf("Object without vars: %v, want TAG undefined at spec.template.spec.containers[0].image", err)
	}
}

func TestValidName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{"A": true, "_": true, "a_1": true, "CAPSTAN_TAG": true, "": false, "1a": false, "a-b": false, "é": false, "a.b": false} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %t, want %t", name, got, want)
		}
	}
}

// FuzzString checks that substitution never panics, leaves text without
// "${" alone, and that an escaped reference always comes back as the
// reference.
func FuzzString(f *testing.F) {
	for _, s := range []string{"${A}", "$${A}", "${A:=b}", "${", "$$", "x${A}y${B:=}", "${A:=}}"} {
		f.Add(s)
	}
	vars := map[string]string{"A": "a", "B": ""}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := String(s, "f", vars)
		if !strings.Contains(s, "${") && (err != nil || got != s) {
			t.Fatalf("String(%q) = %q, %v; want it unchanged", s, got, err)
		}
		if err == nil && len(got) > len(s)*2+8 {
			t.Fatalf("String(%q) grew to %d bytes", s, len(got))
		}
		// Substituting only defined variables never fails, and leaves text
		// that names none of them as it is.
		only, err := Object(map[string]any{"v": s}, Options{Vars: vars, OnlyDefined: true})
		if err != nil || (!strings.Contains(s, "${A") && !strings.Contains(s, "${B") && only["v"] != s) {
			t.Fatalf("OnlyDefined %q = %q, %v; want it unchanged", s, only["v"], err)
		}
		// An escaped name always comes back as its reference.
		if ValidName(s) {
			if got, err := String("$${"+s+"}", "f", nil); err != nil || got != "${"+s+"}" {
				t.Fatalf("escaped %q = %q, %v", s, got, err)
			}
		}
	})
}

// With OnlyDefined, only references to the variables given are replaced:
// shell text, escapes, malformed and unknown references stay as written.
func TestOnlyDefined(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"CAPSTAN_TAG": "v1.2.0", "CAPSTAN_REF": ""}
	tests := []struct{ in, want string }{
		{"app:${CAPSTAN_TAG}", "app:v1.2.0"},
		{"echo $HOME ${FOO} ${BAR:-x} $${CAPSTAN_TAG}", "echo $HOME ${FOO} ${BAR:-x} $${CAPSTAN_TAG}"},
		{"${CAPSTAN_REF:=main}/${CAPSTAN_TAG}", "main/v1.2.0"},
		{"${UNDEFINED:=d}", "${UNDEFINED:=d}"},
		{"${ unclosed ${CAPSTAN_TAG}", "${ unclosed v1.2.0"},
		{"${CAPSTAN_TAG", "${CAPSTAN_TAG"},
		{"${}", "${}"},
		{"$$ and $", "$$ and $"},
	}
	for _, tt := range tests {
		got, err := Object(map[string]any{"v": tt.in}, Options{Vars: vars, OnlyDefined: true})
		if err != nil || got["v"] != tt.want {
			t.Errorf("OnlyDefined %q = %q, %v; want %q", tt.in, got["v"], err, tt.want)
		}
	}
}

// A reference that is the whole of a typed field takes its value's YAML
// type; anywhere else, or quoted, or for a text variable, it stays a
// string.
func TestTypedValues(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"N": "3", "F": "0.5", "B": "true", "Y": "yes", "S": "v1.2.0", "E": "", "SP": "3 # x", "MAP": "{a: 1}", "BIG": "1e3", "HASH": "1234567"}
	typed := []string{"spec.replicas", "f", "b", "y", "s", "e", "sp", "map", "big", "def", "list[0]", "hash", "partial"}
	in := map[string]any{
		"spec": map[string]any{"replicas": "${N}"}, "f": "${F}", "b": "${B}", "y": "${Y}", "s": "${S}", "e": "${E}",
		"sp": "${SP}", "map": "${MAP}", "big": "${BIG}", "def": "${UNSET:=7}", "list": []any{"${N}", "${N}"},
		"hash": "${HASH}", "partial": "x${N}", "untyped": "${N}",
	}
	got, err := Object(in, Options{Vars: vars, Typed: typed, Text: func(n string) bool { return n == "HASH" }})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"spec": map[string]any{"replicas": int64(3)}, "f": 0.5, "b": true, "y": true, "s": "v1.2.0", "e": "",
		"sp": "3 # x", "map": "{a: 1}", "big": int64(1000), "def": int64(7), "list": []any{int64(3), "3"},
		"hash": "1234567", "partial": "x3", "untyped": "3",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("typed Object (-want +got):\n%s", diff)
	}
}

func TestTypedFields(t *testing.T) {
	t.Parallel()
	doc := `apiVersion: apps/v1
kind: Deployment
spec:
  replicas: ${REPLICAS}
  paused: ${PAUSED:=false}
  quoted: "${N}"
  single: '${N}'
  tagged: !!str ${N}
  block: |
    ${N}
  partial: x${N}
  two: ${A}${B}
  template:
    spec:
      containers:
      - name: app
        ports:
        - containerPort: ${PORT}
        - ${PORT}
  anchored: &a ${N}
  alias: *a
`
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	got := TypedFields(n.Content[0])
	want := []string{"spec.replicas", "spec.paused", "spec.template.spec.containers[0].ports[0].containerPort", "spec.template.spec.containers[0].ports[1]", "spec.anchored", "spec.alias"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TypedFields (-want +got):\n%s", diff)
	}
}
