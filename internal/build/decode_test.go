package build

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		data string
		want []string
	}{
		{name: "empty file", file: "a.yaml", data: "", want: []string{}},
		{name: "comments only", file: "a.yaml", data: "# nothing\n---\n# here\n", want: []string{}},
		{name: "byte order mark and CRLF", file: "a.yaml", data: "\uFEFF" + strings.ReplaceAll(cm("a")+"---\n"+cm("b"), "\n", "\r\n"), want: []string{"ConfigMap a", "ConfigMap b"}},
		{name: "file order kept", file: "a.yaml", data: cm("z") + "---\n" + cm("a"), want: []string{"ConfigMap z", "ConfigMap a"}},
		{name: "anchors and merge keys", file: "a.yaml", data: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\n  labels: &l {a: b}\n  annotations:\n    <<: *l\n    c: d\n", want: []string{"ConfigMap m"}},
		{name: "a 10 KB anchor used 20 times", file: "a.yaml", data: "apiVersion: v1\nkind: X\nmetadata:\n  name: x\nbase: &b {text: " + strings.Repeat("y", 10_000) + "}\nspec: [" + strings.Repeat("*b, ", 19) + "*b]\n", want: []string{"X x"}},
		{name: "json null and stream", file: "a.json", data: "null\n" + `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j"}}`, want: []string{"ConfigMap j"}},
		{name: "empty list", file: "a.yaml", data: "apiVersion: v1\nkind: List\nitems: []\n", want: []string{}},
		{name: "kind ending in List without items is an object", file: "a.yaml", data: "apiVersion: example.com/v1\nkind: AccessList\nmetadata:\n  name: x\n", want: []string{"AccessList.example.com x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			objs, err := Decode(tt.file, []byte(tt.data))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.want, ids(objs)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeValues checks that values have the types Kubernetes' JSON
// decoder gives (int64, float64) and YAML 1.1 semantics, like kubectl.
func TestDecodeValues(t *testing.T) {
	t.Parallel()
	objs, err := Decode("a.yaml", []byte("apiVersion: v1\nkind: X\nmetadata:\n  name: x\nspec:\n  i: 3\n  f: 1.5\n  b: yes\n  s: \"yes\"\n  big: 12345678901234\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"i": int64(3), "f": 1.5, "b": true, "s": "yes", "big": int64(12345678901234)}
	if diff := cmp.Diff(want, objs[0].Object["spec"]); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
	_ = objs[0].DeepCopy() // panics on values that are not JSON-compatible
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		data string
		line int
		msg  string
	}{
		{name: "alias cycle", file: "a.yaml", data: "apiVersion: v1\nkind: X\nmetadata:\n  name: x\nspec: &a [*a]\n", line: 5, msg: "alias refers to a node that contains it"},
		{name: "large scalar aliased many times", file: "a.yaml", data: "apiVersion: v1\nkind: X\nmetadata:\n  name: x\ns: &s " + strings.Repeat("x", 1<<20) + "\nspec: [" + strings.Repeat("*s,", 1000) + "*s]\n", line: 6, msg: "billion laughs"},
		{name: "deep nesting", file: "a.yaml", data: strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000), line: 1, msg: "exceeded max depth"},
		{name: "deep json", file: "a.json", data: `{"a":` + strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + "}", line: 1, msg: "exceeded max depth"},
		{name: "scalar document", file: "a.yaml", data: cm("a") + "---\nhello\n", line: 8, msg: "the document is a scalar"},
		{name: "json array", file: "a.json", data: "\n\n[1]", line: 3, msg: "the document is a list"},
		{name: "wrong type of name", file: "a.yaml", data: "apiVersion: v1\nkind: X\nmetadata:\n  name: 3\n", line: 1, msg: "metadata.name is a number, not a string"},
		{name: "bad apiVersion", file: "a.yaml", data: "apiVersion: a/b/c\nkind: X\nmetadata:\n  name: x\n", line: 1, msg: "invalid apiVersion"},
		{name: "nested list", file: "a.yaml", data: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items: []\n", line: 4, msg: "nested lists"},
		{name: "item that is not an object", file: "a.yaml", data: "apiVersion: v1\nkind: List\nitems:\n- 1\n", line: 4, msg: "items[0] is a number"},
		{name: "unterminated json", file: "a.json", data: "{\n\"a\": 1", line: 2, msg: "unexpected end of input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(tt.file, []byte(tt.data))
			wantError(t, err, tt.file, tt.line, tt.msg, nil)
		})
	}
}

// TestDecodeAliasBomb runs alone (not in parallel) so that it can measure
// what it allocates.
func TestDecodeAliasBomb(t *testing.T) {
	for _, levels := range []int{6, 9, 12} {
		data := []byte(aliasBomb(levels))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := Decode("bomb.yaml", data)
		d := time.Since(start)
		runtime.ReadMemStats(&after)
		wantError(t, err, "bomb.yaml", -1, "billion laughs", nil)
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("%d levels (%d bytes): refused in %v, %d KiB allocated", levels, len(data), d, allocated>>10)
		if d > time.Second || allocated > 16<<20 {
			t.Errorf("%d levels: took %v and %d bytes", levels, d, allocated)
		}
	}
}

func TestDecodeJSONCompatible(t *testing.T) {
	t.Parallel()
	objs, err := Decode("a.yaml", []byte("apiVersion: v1\nkind: X\nmetadata:\n  name: x\nspec:\n  1: int key\n  true: bool key\n  t: 2001-12-14t21:59:43.10-05:00\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(objs[0].Object); err != nil {
		t.Errorf("json.Marshal: %v", err)
	}
}
