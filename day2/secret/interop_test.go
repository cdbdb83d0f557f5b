package secret_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/capstan-gitops/capstan/components/repo"
	"github.com/capstan-gitops/capstan/day2/secret"
	"github.com/capstan-gitops/capstan/internal/sops"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// ageKeygen makes a key file with the real age-keygen; it returns the
// file, its recipient and its identities.
func ageKeygen(t *testing.T, tl testenv.SOPSTools) (string, string, []age.Identity) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "key.txt")
	if out, err := exec.CommandContext(t.Context(), tl.AgeKeygen, "-o", file).CombinedOutput(); err != nil {
		t.Fatalf("age-keygen: %v\n%s", err, out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return file, ids[0].(*age.X25519Identity).Recipient().String(), ids
}

// sopsCLI runs the real sops in dir with keyFile.
func sopsCLI(t *testing.T, tl testenv.SOPSTools, dir, keyFile string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), tl.SOPS, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SOPS_AGE_KEY_FILE="+keyFile, "SOPS_AGE_KEY=", "SOPS_AGE_RECIPIENTS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sops %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// A Secret as `kubectl create secret generic --dry-run=client -o yaml`
// prints it, with stringData added by hand as people do.
const typicalSecret = `apiVersion: v1
data:
  password: czNjcjN0LVBMQUlOVEVYVA==
  username: YWRtaW4=
kind: Secret
metadata:
  name: db
  namespace: app
stringData:
  url: postgres://admin:s3cr3t-PLAINTEXT@db:5432/app
type: Opaque
`

// TestEncryptedBySecretEncryptDecryptsWithSOPS: `capstan secret encrypt
// --in-place` of a typical Secret, for the recipient of the repository's
// .sops.yaml rule, opens with the real `sops --decrypt` to exactly the
// input bytes; only data and stringData are ciphertext.
func TestEncryptedBySecretEncryptDecryptsWithSOPS(t *testing.T) {
	t.Parallel()
	tl := testenv.SOPSToolsForTest(t)
	keyFile, recipient, _ := ageKeygen(t, tl)
	fourSpaces := strings.ReplaceAll(typicalSecret, "  ", "    ")
	noIndentRule := "creation_rules:\n  - path_regex: ^clusters/dwk/\n    age: " + recipient + "\n"
	cases := []struct{ name, config, plain, want string }{
		{"sops.yaml with yaml indent 2", "stores:\n  yaml:\n    indent: 2\ncreation_rules:\n  - path_regex: ^clusters/dwk/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: " + recipient + "\n", typicalSecret, typicalSecret},
		{"default sops indent, 4-space manifest", noIndentRule, fourSpaces, fourSpaces},
		// Not byte-identical, by sops's doing: without stores.yaml.indent
		// sops --decrypt re-emits YAML with 4-space indentation.
		{"default sops indent, 2-space manifest: sops re-indents", noIndentRule, typicalSecret, fourSpaces},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := t.TempDir()
			file := filepath.Join(repo, "clusters", "dwk", "apps", "db.yaml")
			writeFile(t, filepath.Join(repo, secret.ConfigName), tc.config, 0o644)
			writeFile(t, file, tc.plain, 0o640)
			if err := secret.EncryptInPlace(file, secret.EncryptOptions{}); err != nil {
				t.Fatal(err)
			}
			enc, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if st, _ := os.Stat(file); st.Mode().Perm() != 0o640 {
				t.Errorf("mode %v after --in-place, want 0640", st.Mode().Perm())
			}
			for _, leak := range []string{"czNjcjN0", "YWRtaW4=", "PLAINTEXT"} {
				if bytes.Contains(enc, []byte(leak)) {
					t.Errorf("the encrypted file holds %q:\n%s", leak, enc)
				}
			}
			if !bytes.Contains(enc, []byte("name: db")) || !bytes.Contains(enc, []byte(recipient)) {
				t.Errorf("metadata or recipient missing:\n%s", enc)
			}
			got := sopsCLI(t, tl, repo, keyFile, "--decrypt", filepath.Join("clusters", "dwk", "apps", "db.yaml"))
			if string(got) != tc.want {
				t.Errorf("sops --decrypt:\n%s\nwant:\n%s", got, tc.want)
			}
			if err := secret.EncryptInPlace(file, secret.EncryptOptions{}); err == nil || !strings.Contains(err.Error(), "already encrypted") {
				t.Errorf("encrypting twice: %v", err)
			}
		})
	}
}

// TestSecretDecryptOpensSOPSFiles: files the real `sops --encrypt --age
// --encrypted-regex '^(data|stringData)$'` wrote decrypt in capstan to what
// `sops --decrypt` prints (the same objects; sops re-indents by 4 spaces or
// a tab, capstan keeps the input's 2-space layout, so a kubectl-style YAML
// manifest comes back byte-identical).
func TestSecretDecryptOpensSOPSFiles(t *testing.T) {
	t.Parallel()
	tl := testenv.SOPSToolsForTest(t)
	keyFile, recipient, ids := ageKeygen(t, tl)
	_, other, _ := ageKeygen(t, tl)
	for _, tc := range []struct{ name, file, plain string }{
		{"yaml", "db.yaml", typicalSecret},
		{"json", "db.json", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"stringData":{"pw":"json-PLAINTEXT"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, tc.file), tc.plain, 0o600)
			enc := sopsCLI(t, tl, dir, keyFile, "--encrypt", "--age", other+","+recipient, "--encrypted-regex", "^(data|stringData)$", tc.file)
			encFile := filepath.Join(dir, "enc-"+tc.file)
			writeFile(t, encFile, string(enc), 0o600)
			want := sopsCLI(t, tl, dir, keyFile, "--decrypt", "enc-"+tc.file)
			got, err := secret.Decrypt(encFile, ids)
			if err != nil {
				t.Fatal(err)
			}
			gj, err1 := sigsyaml.YAMLToJSON(got)
			wj, err2 := sigsyaml.YAMLToJSON(want)
			if err1 != nil || err2 != nil || !bytes.Equal(gj, wj) {
				t.Errorf("capstan:\n%s\nsops --decrypt:\n%s (%v, %v)", got, want, err1, err2)
			}
			if tc.file == "db.yaml" && string(got) != tc.plain {
				t.Errorf("capstan:\n%s\nwant the original bytes:\n%s", got, tc.plain)
			}
			if _, err := secret.Decrypt(encFile, nil); err == nil || !strings.Contains(err.Error(), recipient) {
				t.Errorf("without a key: %v, want the recipients named", err)
			}
		})
	}
}

func writeFile(t *testing.T, p, s string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), mode); err != nil {
		t.Fatal(err)
	}
}

// TestRuleMatchingAgreesWithSOPS: for files at several paths below a
// .sops.yaml, the creation rule capstan picks encrypts for the same
// recipients as the one the real sops picks (run from the file's
// directory, as sops looks for .sops.yaml from its working directory).
func TestRuleMatchingAgreesWithSOPS(t *testing.T) {
	t.Parallel()
	tl := testenv.SOPSToolsForTest(t)
	keyFile, alice, _ := ageKeygen(t, tl)
	_, bob, _ := ageKeygen(t, tl)
	_, carol, _ := ageKeygen(t, tl)
	repo := t.TempDir()
	writeFile(t, filepath.Join(repo, secret.ConfigName), "creation_rules:\n"+
		"  - path_regex: ^clusters/prod/.*\\.yaml$\n    age: "+alice+"\n"+
		"  - path_regex: (^|/)secrets?/\n    age: "+bob+","+alice+"\n"+
		"  - age: "+carol+"\n", 0o644)
	for rel, expect := range map[string][]string{
		"clusters/prod/db.yaml": {alice}, "clusters/prod/apps/x.yaml": {alice}, "clusters/prod/db.json": {carol},
		"apps/secret/a.yaml": {bob, alice}, "secrets/b.yaml": {bob, alice}, "other/clusters/prod/c.yaml": {carol}, "top.yaml": {carol},
	} {
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(repo, filepath.FromSlash(rel))
			writeFile(t, file, "{\"kind\": \"Secret\", \"stringData\": {\"k\": \"v\"}}\n", 0o600)
			enc := sopsCLI(t, tl, filepath.Dir(file), keyFile, "--encrypt", filepath.Base(file))
			want, err := sops.Recipients(enc, sops.FormatOf(file))
			if err != nil {
				t.Fatal(err)
			}
			rule, err := secret.FindRule(file)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rule.Recipients, want) || !slices.Equal(want, expect) {
				t.Errorf("capstan picks %v, sops %v, want %v", rule.Recipients, want, expect)
			}
		})
	}
}

// TestYAMLFormsThroughSOPSDecrypt records which YAML forms come back
// byte-identical from `sops --decrypt` of what `capstan secret encrypt`
// wrote (with stores.yaml.indent 2), and that the others come back as the
// same object: comments and a leading `---` are dropped (by internal/sops,
// whose encrypted output keeps no comments, where sops would keep them),
// quotes that are not needed are removed and a kubectl-style unindented
// list is indented (both emitters are yaml.v3's).
func TestYAMLFormsThroughSOPSDecrypt(t *testing.T) {
	t.Parallel()
	tl := testenv.SOPSToolsForTest(t)
	keyFile, recipient, _ := ageKeygen(t, tl)
	forms := []struct {
		name, plain string
		identical   bool
	}{
		{"multi-document", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\nstringData:\n  k: v\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\nstringData:\n  k: w\n", true},
		{"block scalar", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  cfg: |\n    line1\n    line2\n", true},
		{"comments", "# a comment\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db # inline\nstringData:\n  k: v\n", false},
		{"leading ---", "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  k: v\n", false},
		{"unindented list", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  finalizers:\n  - a\n  - b\nstringData:\n  k: v\n", false},
		{"needless quotes", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n    a: 'single'\nstringData:\n  k: \"v\"\n  port: \"5432\"\n", false},
	}
	for _, tc := range forms {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := t.TempDir()
			writeFile(t, filepath.Join(repo, secret.ConfigName), "stores:\n  yaml:\n    indent: 2\ncreation_rules:\n  - age: "+recipient+"\n", 0o644)
			writeFile(t, filepath.Join(repo, "s.yaml"), tc.plain, 0o600)
			if err := secret.EncryptInPlace(filepath.Join(repo, "s.yaml"), secret.EncryptOptions{}); err != nil {
				t.Fatal(err)
			}
			got := sopsCLI(t, tl, repo, keyFile, "--decrypt", "s.yaml")
			if (string(got) == tc.plain) != tc.identical {
				t.Errorf("identical = %v, want %v:\n%s", !tc.identical, tc.identical, got)
			}
			gj, err1 := sigsyaml.YAMLToJSON(got)
			wj, err2 := sigsyaml.YAMLToJSON([]byte(tc.plain))
			if err1 != nil || err2 != nil || !bytes.Equal(gj, wj) {
				t.Errorf("not the same object (%v, %v):\n%s", err1, err2, got)
			}
		})
	}
}

// TestBootstrapSOPSConfigWithSOPS: with the .sops.yaml `capstan bootstrap
// --generate-age-key` commits, the real sops (run from the repository
// root) and `capstan secret encrypt` both encrypt a Secret manifest below
// the path for the key, data and stringData only, and a .env file whole;
// `sops --decrypt` gives capstan's manifest back byte for byte (stores.yaml
// indent 2). The .env rule is needed: under the manifest rule alone, sops
// leaves a .env in plaintext.
func TestBootstrapSOPSConfigWithSOPS(t *testing.T) {
	t.Parallel()
	tl := testenv.SOPSToolsForTest(t)
	keyFile, recipient, ids := ageKeygen(t, tl)
	cfg, _, err := repo.SOPSConfig(nil, "clusters/dwk", recipient)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeFile(t, filepath.Join(root, secret.ConfigName), string(cfg), 0o644)
	const env = "TOKEN=env-PLAINTEXT\nREGION=north\n"
	writeFile(t, filepath.Join(root, "clusters", "dwk", "apps", "db.yaml"), typicalSecret, 0o600)
	writeFile(t, filepath.Join(root, "clusters", "dwk", "gen", "api.env"), env, 0o600)

	bySOPS := sopsCLI(t, tl, root, keyFile, "--encrypt", "clusters/dwk/apps/db.yaml")
	byCapstan, err := secret.Encrypt(filepath.Join(root, "clusters", "dwk", "apps", "db.yaml"), secret.EncryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for who, enc := range map[string][]byte{"sops": bySOPS, "capstan": byCapstan} {
		if r, err := sops.Recipients(enc, sops.YAML); err != nil || !slices.Equal(r, []string{recipient}) {
			t.Errorf("%s encrypted the manifest for %v (%v)", who, r, err)
		}
		if bytes.Contains(enc, []byte("PLAINTEXT")) || !bytes.Contains(enc, []byte("name: db")) || !bytes.Contains(enc, []byte("encrypted_regex: ^(data|stringData)$")) {
			t.Errorf("%s did not encrypt data and stringData only:\n%s", who, enc)
		}
	}
	writeFile(t, filepath.Join(root, "clusters", "dwk", "apps", "enc.yaml"), string(byCapstan), 0o600)
	if got := sopsCLI(t, tl, root, keyFile, "--decrypt", "clusters/dwk/apps/enc.yaml"); string(got) != typicalSecret {
		t.Errorf("sops --decrypt of capstan's file:\n%s\nwant the input:\n%s", got, typicalSecret)
	}

	envFile := filepath.Join(root, "clusters", "dwk", "gen", "api.env")
	byCapstan, err = secret.Encrypt(envFile, secret.EncryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bySOPS = sopsCLI(t, tl, root, keyFile, "--encrypt", "clusters/dwk/gen/api.env")
	for who, enc := range map[string][]byte{"sops": bySOPS, "capstan": byCapstan} {
		if bytes.Contains(enc, []byte("PLAINTEXT")) || bytes.Contains(enc, []byte("north")) {
			t.Errorf("%s left a value of the .env in plaintext:\n%s", who, enc)
		}
		writeFile(t, filepath.Join(root, "x", who+".env"), string(enc), 0o600)
		if got, err := secret.Decrypt(filepath.Join(root, "x", who+".env"), ids); err != nil || string(got) != env {
			t.Errorf("decrypting %s's .env: %v\n%s", who, err, got)
		}
	}

	manifestRuleOnly := "creation_rules:\n  - path_regex: ^clusters/dwk/\n    encrypted_regex: ^(data|stringData)$\n    age: " + recipient + "\n"
	writeFile(t, filepath.Join(root, secret.ConfigName), manifestRuleOnly, 0o644)
	if enc := sopsCLI(t, tl, root, keyFile, "--encrypt", "clusters/dwk/gen/api.env"); !bytes.Contains(enc, []byte("env-PLAINTEXT")) {
		t.Errorf("under the manifest rule alone sops encrypted the .env; the .env rule may not be needed:\n%s", enc)
	}
}
