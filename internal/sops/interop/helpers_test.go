package interop_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

// keyPair is an age identity made by the real age-keygen.
type keyPair struct {
	file      string // the key file, as age-keygen writes it
	recipient string
	ids       []age.Identity
}

func ageKeygen(t *testing.T, tl testenv.SOPSTools) keyPair {
	t.Helper()
	file := filepath.Join(t.TempDir(), "key.txt")
	out, err := exec.CommandContext(t.Context(), tl.AgeKeygen, "-o", file).CombinedOutput()
	if err != nil {
		t.Fatalf("age-keygen: %v\n%s", err, out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	id, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{file: file, recipient: id[0].(*age.X25519Identity).Recipient().String(), ids: id}
}

// runSOPS runs the real sops CLI on a file named name holding data, in an
// empty directory (no .sops.yaml); the file's path is the last argument.
func runSOPS(t *testing.T, tl testenv.SOPSTools, keyFile, name string, data []byte, args ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), tl.SOPS, append(args, name)...)
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
