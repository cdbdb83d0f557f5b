package substitute

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
	got, err := Object(in, map[string]string{"TAG": "v1"})
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
	_, err = Object(in, nil)
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
		// An escaped name always comes back as its reference.
		if ValidName(s) {
			if got, err := String("$${"+s+"}", "f", nil); err != nil || got != "${"+s+"}" {
				t.Fatalf("escaped %q = %q, %v", s, got, err)
			}
		}
	})
}
