package app

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/capstan-gitops/capstan/internal/golden"
)

// maskSOPS replaces the random parts of an encrypted file (ciphertexts,
// ivs, tags, the wrapped data key, the time) with fixed text.
func maskSOPS(s string) string {
	s = regexp.MustCompile(`ENC\[AES256_GCM,data:[^,]*,iv:[^,]*,tag:[^,]*,type:(\w+)\]`).ReplaceAllString(s, "ENC[AES256_GCM,data:…,iv:…,tag:…,type:$1]")
	s = regexp.MustCompile(`(?s)-----BEGIN AGE ENCRYPTED FILE-----.*?-----END AGE ENCRYPTED FILE-----`).ReplaceAllString(s, "-----BEGIN AGE ENCRYPTED FILE-----…-----END AGE ENCRYPTED FILE-----")
	return regexp.MustCompile(`lastmodified: "[^"]*"`).ReplaceAllString(s, `lastmodified: "…"`)
}

// TestSecretCreateGolden: `capstan secret create` prints the Secret that
// `kubectl create secret generic --dry-run=client -o yaml` would, plain or
// encrypted (random parts masked), and the encrypted one opens with the
// key to the plain one.
func TestSecretCreateGolden(t *testing.T) {
	t.Parallel()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "age.key")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(t.TempDir(), "tls.crt")
	if err := os.WriteFile(cert, []byte("-----BEGIN CERTIFICATE-----\nPLAINTEXT-cert\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"secret", "create", "db", "-n", "app", "--from-literal", "password=s3cr3t-PLAINTEXT", "--from-literal", "user=admin", "--from-file", "ca.crt=" + cert, "--type", "Opaque"}
	plain, stderr, err := run(t, args...)
	if err != nil || stderr != "" {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	golden.Assert(t, "secret-create-plain", []byte(plain))
	enc, stderr, err := run(t, append(args, "--encrypt", "--age", id.Recipient().String())...)
	if err != nil || stderr != "" {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	for _, leak := range []string{"PLAINTEXT", "czNjcjN0", "YWRtaW4"} {
		if strings.Contains(enc, leak) {
			t.Errorf("encrypted output holds %q", leak)
		}
	}
	golden.Assert(t, "secret-create-encrypted", []byte(strings.ReplaceAll(maskSOPS(enc), id.Recipient().String(), "age1RECIPIENT")))
	encFile := filepath.Join(t.TempDir(), "db.yaml")
	if err := os.WriteFile(encFile, []byte(enc), 0o600); err != nil {
		t.Fatal(err)
	}
	got, stderr, err := run(t, "secret", "decrypt", "--age-key-file", keyFile, encFile)
	if err != nil || stderr != "" || got != plain {
		t.Errorf("decrypt: %v %q\n%s\nwant\n%s", err, stderr, got, plain)
	}
}

// TestSecretEncryptRefusals: an encrypted file, a file with no recipient,
// and decrypting without a key each fail with one line and a hint.
func TestSecretEncryptRefusals(t *testing.T) {
	t.Parallel()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plainFile := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(plainFile, []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  k: PLAINTEXT\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = run(t, "secret", "encrypt", plainFile)
	wantUserError(t, err, "no age recipient to encrypt "+plainFile, "--age")
	if _, _, err := run(t, "secret", "encrypt", "--in-place", "--age", id.Recipient().String(), plainFile); err != nil {
		t.Fatal(err)
	}
	_, _, err = run(t, "secret", "encrypt", "--age", id.Recipient().String(), plainFile)
	wantUserError(t, err, plainFile+" is already encrypted", "capstan secret decrypt")
	_, _, err = run(t, "secret", "decrypt", "--age-key-file", "", plainFile)
	wantUserError(t, err, "no age key is given", "--age-key-file")
}

func wantUserError(t *testing.T, err error, msg, hint string) {
	t.Helper()
	h, ok := err.(hinter)
	if !ok || !strings.Contains(err.Error(), msg) || strings.Contains(err.Error(), "\n") || !strings.Contains(h.Hint(), hint) {
		t.Errorf("err %v, want %q with a hint about %q", err, msg, hint)
	}
}

// TestSecretDecryptKeyFromEnvironment: CAPSTAN_AGE_KEY_FILE, then
// SOPS_AGE_KEY_FILE as sops reads it, supply the key.
func TestSecretDecryptKeyFromEnvironment(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "age.key")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	enc, _, err := run(t, "secret", "create", "--from-literal", "k=PLAINTEXT", "--encrypt", "--age", id.Recipient().String(), "s")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(file, []byte(enc), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"CAPSTAN_AGE_KEY_FILE", "SOPS_AGE_KEY_FILE"} {
		t.Run(env, func(t *testing.T) {
			for _, e := range []string{"CAPSTAN_AGE_KEY_FILE", "SOPS_AGE_KEY_FILE"} {
				t.Setenv(e, "") // restored after the test
				os.Unsetenv(e)  //nolint:errcheck // an unset variable, not an empty one
			}
			t.Setenv(env, keyFile)
			got, _, err := run(t, "secret", "decrypt", file)
			if err != nil || !strings.Contains(got, "k: UExBSU5URVhU") {
				t.Errorf("%v:\n%s", err, got)
			}
		})
	}
}
