package sops_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/capstan-gitops/capstan/internal/sops"
)

const secretYAML = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: s3cr3t-PLAINTEXT\n  port: \"5432\"\n  n: 7\n  empty: \"\"\n  none: null\n  list: [a, 1, true, 0.5]\n---\nkind: ConfigMap\ndata:\n  a_unencrypted: x\n"

const secretJSON = `{"apiVersion": "v1", "stringData": {"key": "json-PLAINTEXT", "n": 7, "f": 1.25, "ok": false, "list": ["a", 2]}}`

const dotenv = "USER=admin\nPASSWORD=env-PLAINTEXT\nMULTI=line1\\nline2\n"

const iniText = "top = 1\n\n; about it\n[db]\nuser     = admin\npassword = ini-PLAINTEXT\n\n[db]\nport = 5432\n"

var binary = []byte("\x00\x01binary-PLAINTEXT\xff\nnot yaml: [")

// sameContent compares two files of a format by content: YAML and JSON
// as decoded documents, others byte for byte.
func sameContent(t *testing.T, f sops.Format, got, want []byte) {
	t.Helper()
	var g, w any
	switch f {
	case sops.YAML:
		g, w = yamlDocs(t, got), yamlDocs(t, want)
	case sops.JSON:
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%v:\n%s", err, got)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
	default:
		if !bytes.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
		return
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Fatalf("content differs (-want +got):\n%s", d)
	}
}

func yamlDocs(t *testing.T, data []byte) []any {
	t.Helper()
	var out []any
	for _, d := range strings.Split(string(data), "\n---\n") {
		var v any
		if err := sigsyaml.Unmarshal([]byte(d), &v); err != nil {
			t.Fatalf("%v:\n%s", err, data)
		}
		out = append(out, v)
	}
	return out
}
