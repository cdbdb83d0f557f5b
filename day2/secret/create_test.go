package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/capstan-gitops/capstan/internal/sops"
)

func TestCreate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert := filepath.Join(dir, "tls.crt")
	if err := os.WriteFile(cert, []byte("CERT"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    CreateOptions
		want    string
		wantErr string
	}{
		{"no data", CreateOptions{Name: "empty"}, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: empty\n", ""},
		{"file key is the base name", CreateOptions{Name: "tls", Namespace: "web", Type: "kubernetes.io/tls", Files: []string{cert}},
			"apiVersion: v1\ndata:\n  tls.crt: Q0VSVA==\nkind: Secret\nmetadata:\n  name: tls\n  namespace: web\ntype: kubernetes.io/tls\n", ""},
		{"literal with = in the value", CreateOptions{Name: "s", Literals: []string{"dsn=a=b"}}, "apiVersion: v1\ndata:\n  dsn: YT1i\nkind: Secret\nmetadata:\n  name: s\n", ""},
		{"no name", CreateOptions{}, "", "a Secret needs a name"},
		{"--age without --encrypt", CreateOptions{Name: "s", Recipients: []string{"age1x"}}, "", "--age without --encrypt"},
		{"literal without =", CreateOptions{Name: "s", Literals: []string{"k"}}, "", "is not KEY=VALUE"},
		{"duplicate key", CreateOptions{Name: "s", Literals: []string{"k=1"}, Files: []string{"k=" + cert}}, "", `the key "k" is given twice`},
		{"invalid key", CreateOptions{Name: "s", Literals: []string{"a/b=1"}}, "", `"a/b" is not a valid Secret key`},
		{"missing file", CreateOptions{Name: "s", Files: []string{"k=" + filepath.Join(dir, "nope")}}, "", "--from-file"},
		{"encrypt without recipient", CreateOptions{Name: "s", Literals: []string{"k=v"}, Encrypt: true, ConfigPath: filepath.Join(dir, "s.yaml")}, "", "no age recipient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Create(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("got (%v)\n%s\nwant\n%s", err, got, tt.want)
			}
		})
	}
}

// TestCreateEncryptsForTheRuleOfSOPSYAML: without --age, the recipients
// and encrypted_regex come from the .sops.yaml rule for NAME.yaml.
func TestCreateEncryptsForTheRuleOfSOPSYAML(t *testing.T) {
	t.Parallel()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, ConfigName), "creation_rules:\n  - path_regex: \\.yaml$\n    encrypted_regex: ^data$\n    age: "+id.Recipient().String()+"\n")
	enc, err := Create(CreateOptions{Name: "s", Literals: []string{"k=PLAINTEXT"}, Encrypt: true, ConfigPath: filepath.Join(dir, "s.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(enc), "UExBSU5URVhU") || !strings.Contains(string(enc), "encrypted_regex: ^data$") {
		t.Errorf("encrypted:\n%s", enc)
	}
	plain, err := sops.Decrypt(enc, sops.YAML, []age.Identity{id})
	if err != nil || !strings.Contains(string(plain), "k: UExBSU5URVhU") {
		t.Errorf("decrypted (%v):\n%s", err, plain)
	}
}

// TestEncryptDotenvWhole: a rule without encrypted_regex encrypts a
// manifest's data and stringData only, and a .env file (which has no such
// key) whole, as sops does: never a file left in plaintext.
func TestEncryptDotenvWhole(t *testing.T) {
	t.Parallel()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, ConfigName), "creation_rules:\n  - age: "+id.Recipient().String()+"\n")
	write(t, filepath.Join(dir, "a.env"), "TOKEN=env-PLAINTEXT\n")
	write(t, filepath.Join(dir, "s.yaml"), "kind: Secret\nmetadata:\n  name: s\nstringData:\n  k: yaml-PLAINTEXT\n")
	for file, keep := range map[string]string{"a.env": "TOKEN=ENC[", "s.yaml": "name: s"} {
		out, err := Encrypt(filepath.Join(dir, file), EncryptOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), "PLAINTEXT") || !strings.Contains(string(out), keep) {
			t.Errorf("%s:\n%s", file, out)
		}
	}
}
