package interop_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/capstan-gitops/capstan/internal/sops"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

const secretYAMLDocs = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: app
  labels:
    tier: backend
type: Opaque
stringData:
  password: s3cr3t-PLAINTEXT
  port: "5432"
  empty: ""
data:
  token: c2VjcmV0LXRva2Vu
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  replicas: "3"
  list_unencrypted: plain
nested:
  ints: [1, 2, 3]
  flag: true
  ratio: 0.5
  none: null
`

const secretJSON = `{
  "apiVersion": "v1",
  "kind": "Secret",
  "metadata": {"name": "api", "namespace": "app"},
  "stringData": {"key": "json-PLAINTEXT", "n": 7, "f": 1.25, "ok": false, "list": ["a", 2]}
}
`

const dotenv = "USER=admin\nPASSWORD=env-PLAINTEXT\nMULTI=line1\\nline2\n"

// iniFile exercises what sops's INI store reads: keys before any section,
// comments (above a section, above a key, after a value), repeated
// sections, : as delimiter, quoted and multi-line values, empty values.
const iniFile = `top = 1
; about the database
[db]
# the admin
user = admin ; who
password = "ini-PLAINTEXT=x"
empty =
spaced = " padded "

[db]
port: 5432
[other.section]
multi = """first
second"""
semi = ` + "`a;b`" + `
list_unencrypted = plain
`

// iniNormal is iniFile as sops writes it back (ini.v1's format): what
// `sops --decrypt` prints for it, byte for byte.
const iniNormal = "top = 1\n\n; about the database\n[db]\n; the admin\n; who\nuser     = admin\npassword = ini-PLAINTEXT=x\nempty    = \nspaced   = \" padded \"\n\n" +
	"[db]\nport = 5432\n\n[other.section]\nmulti            = \"\"\"first\nsecond\"\"\"\nsemi             = `a;b`\nlist_unencrypted = plain\n"

var binary = []byte("\x00\x01binary-PLAINTEXT\xff\nnot yaml: [")

// TestDecryptFilesOfTheSOPSCLI: files the real sops CLI encrypts for age
// decrypt to what `sops --decrypt` prints, in every format, with and
// without encrypted_regex, for each of two recipients.
func TestDecryptFilesOfTheSOPSCLI(t *testing.T) {
	t.Parallel()
	tl := testenv.SOPSToolsForTest(t)
	alice, bob := ageKeygen(t, tl), ageKeygen(t, tl)
	recipients := alice.recipient + "," + bob.recipient
	cases := []struct {
		name, file string
		plain      []byte
		format     sops.Format
		regex      string
	}{
		{"yaml", "s.yaml", []byte(secretYAMLDocs), sops.YAML, ""},
		{"yaml with encrypted_regex", "s.yaml", []byte(secretYAMLDocs), sops.YAML, "^(data|stringData)$"},
		{"json", "s.json", []byte(secretJSON), sops.JSON, ""},
		{"json with encrypted_regex", "s.json", []byte(secretJSON), sops.JSON, "^stringData$"},
		{"dotenv", "s.env", []byte(dotenv), sops.Dotenv, ""},
		{"dotenv with encrypted_regex", "s.env", []byte(dotenv), sops.Dotenv, "^PASS"},
		{"binary", "s.bin", binary, sops.Binary, ""},
		{"ini", "s.ini", []byte(iniFile), sops.INI, ""},
		{"ini with encrypted_regex", "s.ini", []byte(iniFile), sops.INI, "^pass"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"--encrypt", "--age", recipients}
			if tc.regex != "" {
				args = append(args, "--encrypted-regex", tc.regex)
			}
			enc := runSOPS(t, tl, alice.file, tc.file, tc.plain, args...)
			if bytes.Contains(enc, []byte("PLAINTEXT")) {
				t.Fatalf("sops left a secret in clear:\n%s", enc)
			}
			if !sops.IsEncrypted(enc, tc.format) {
				t.Fatalf("IsEncrypted = false for:\n%s", enc)
			}
			want := runSOPS(t, tl, alice.file, tc.file, enc, "--decrypt")
			if tc.format == sops.INI && string(want) != iniNormal {
				t.Errorf("sops --decrypt printed %q, want iniNormal %q", want, iniNormal)
			}
			for _, k := range []keyPair{alice, bob} {
				got, err := sops.Decrypt(enc, tc.format, k.ids)
				if err != nil {
					t.Fatalf("Decrypt: %v\n%s", err, enc)
				}
				sameContent(t, tc.format, got, want)
			}
			recips, err := sops.Recipients(enc, tc.format)
			if err != nil || strings.Join(recips, ",") != recipients {
				t.Errorf("Recipients = %v, %v; want %s", recips, err, recipients)
			}
		})
	}
}

// TestSOPSCLIDecryptsCapstanFiles: what Encrypt writes, `sops --decrypt`
// opens to the same content, in every format.
func TestSOPSCLIDecryptsCapstanFiles(t *testing.T) {
	t.Parallel()
	tl := testenv.SOPSToolsForTest(t)
	k := ageKeygen(t, tl)
	cases := []struct {
		name, file string
		plain      []byte
		format     sops.Format
		regex      string
	}{
		{"yaml", "s.yaml", []byte(secretYAMLDocs), sops.YAML, ""},
		{"yaml with encrypted_regex", "s.yaml", []byte(secretYAMLDocs), sops.YAML, "^(data|stringData)$"},
		{"json", "s.json", []byte(secretJSON), sops.JSON, ""},
		{"dotenv", "s.env", []byte(dotenv), sops.Dotenv, ""},
		{"binary", "s.bin", binary, sops.Binary, ""},
		{"ini", "s.ini", []byte(iniNormal), sops.INI, ""},
		{"ini with encrypted_regex", "s.ini", []byte(iniNormal), sops.INI, "^(pass|db)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			enc, err := sops.Encrypt(tc.plain, tc.format, sops.EncryptOptions{Recipients: []string{k.recipient}, EncryptedRegex: tc.regex})
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(enc, []byte("PLAINTEXT")) {
				t.Fatalf("Encrypt left a secret in clear:\n%s", enc)
			}
			got := runSOPS(t, tl, k.file, tc.file, enc, "--decrypt")
			sameContent(t, tc.format, got, tc.plain)
			mine, err := sops.Decrypt(enc, tc.format, k.ids)
			if err != nil {
				t.Fatal(err)
			}
			sameContent(t, tc.format, mine, tc.plain)
		})
	}
}

// TestDecryptRefusals: every failure names its cause, and none shows a
// plaintext value.
func TestDecryptRefusals(t *testing.T) {
	t.Parallel()
	tl := testenv.SOPSToolsForTest(t)
	owner, stranger := ageKeygen(t, tl), ageKeygen(t, tl)
	enc := runSOPS(t, tl, owner.file, "s.yaml", []byte(secretYAMLDocs), "--encrypt", "--age", owner.recipient, "--encrypted-regex", "^(data|stringData)$")
	cases := []struct {
		name   string
		data   []byte
		ids    int // 0 none, 1 owner, 2 stranger
		want   error
		recips bool
	}{
		{"no identity configured", enc, 0, sops.ErrNoIdentities, true},
		{"no identity opens it", enc, 2, sops.ErrNoMatch, true},
		{"unencrypted value changed", bytes.Replace(enc, []byte("tier: backend"), []byte("tier: frontend"), 1), 1, sops.ErrMAC, false},
		{"value removed", bytes.Replace(enc, []byte("    tier: backend\n"), nil, 1), 1, sops.ErrMAC, false},
		{"lastmodified missing", removeLine(enc, "lastmodified:"), 1, sops.ErrMalformed, false},
		{"mac missing", removeLine(enc, "    mac: "), 1, sops.ErrMalformed, false},
		{"ciphertext changed", corruptValue(enc, "password: ENC[AES256_GCM,data:"), 1, sops.ErrMalformed, false},
		{"two rules", bytes.Replace(enc, []byte("    encrypted_regex:"), []byte("    unencrypted_suffix: _x\n    encrypted_regex:"), 1), 1, sops.ErrMalformed, false},
		{"kms only", kmsOnly(enc), 1, sops.ErrUnsupported, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if bytes.Equal(tc.data, enc) && tc.ids == 1 {
				t.Fatal("the case did not change the file")
			}
			var ids = map[int]keyPair{1: owner, 2: stranger}[tc.ids].ids
			out, err := sops.Decrypt(tc.data, sops.YAML, ids)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decrypt = %q, %v; want %v", out, err, tc.want)
			}
			if out != nil {
				t.Errorf("Decrypt returned output with an error")
			}
			if strings.Contains(err.Error(), "PLAINTEXT") || strings.Contains(err.Error(), "AGE-SECRET-KEY") {
				t.Errorf("the error shows a secret: %v", err)
			}
			if tc.recips != strings.Contains(err.Error(), owner.recipient) {
				t.Errorf("error %q: naming the recipient %s = %v, want %v", err, owner.recipient, !tc.recips, tc.recips)
			}
		})
	}
}

func removeLine(data []byte, prefix string) []byte {
	var out [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimLeft(l, " "), []byte(strings.TrimLeft(prefix, " "))) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// corruptValue flips the first base64 character of the data after marker.
func corruptValue(data []byte, marker string) []byte {
	i := bytes.Index(data, []byte(marker))
	if i < 0 {
		return data
	}
	out := bytes.Clone(data)
	j := i + len(marker)
	if out[j] == 'A' {
		out[j] = 'B'
	} else {
		out[j] = 'A'
	}
	return out
}

// kmsOnly replaces the age recipients by a KMS key.
func kmsOnly(data []byte) []byte {
	i := bytes.Index(data, []byte("    age:\n"))
	j := bytes.Index(data, []byte("    lastmodified:"))
	if i < 0 || j < i {
		return data
	}
	return append(append(bytes.Clone(data[:i]), []byte("    kms:\n        - arn: arn:aws:kms:eu-west-1:1:key/x\n          enc: abc\n")...), data[j:]...)
}

// sameContent compares two files of a format by content: YAML and JSON
// as decoded documents, others byte for byte.
func sameContent(t *testing.T, f sops.Format, got, want []byte) {
	t.Helper()
	switch f {
	case sops.YAML:
		g, w := yamlDocs(t, got), yamlDocs(t, want)
		if d := cmp.Diff(w, g); d != "" {
			t.Fatalf("content differs (-want +got):\n%s", d)
		}
	case sops.JSON:
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%v:\n%s", err, got)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(w, g); d != "" {
			t.Fatalf("content differs (-want +got):\n%s", d)
		}
	default:
		if !bytes.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
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
