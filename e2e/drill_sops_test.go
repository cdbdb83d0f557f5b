package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/capstan-gitops/capstan/drill"
	"github.com/capstan-gitops/capstan/internal/sops"
)

// TestDrillChecksTheAgeKeyBackup drills a repository bootstrapped with
// --age-key-file that holds a SOPS-encrypted Secret: with the right key
// (from SOPS_AGE_KEY_FILE, as sops reads it) the rebuilt cluster decrypts
// it and is Ready; with a wrong key backup, or none, the report names the
// file and the public key it was encrypted for, so the wrong backup is
// found before a disaster. No output shows the plaintext or an identity.
func TestDrillChecksTheAgeKeyBackup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ops, opsFile := drillAgeKey(t, dir, "ops.key")
	_, wrongFile := drillAgeKey(t, dir, "old-backup.key")
	plain := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: web\nstringData:\n  password: " + sopsPlaintext + "\n"
	enc, err := sops.Encrypt([]byte(plain), sops.YAML, sops.EncryptOptions{Recipients: []string{ops.Recipient().String()}, EncryptedRegex: "^(data|stringData)$"})
	if err != nil {
		t.Fatal(err)
	}
	const file = "clusters/dwk/web/db.sops.yaml"
	repo := newDrillRepoWith(t, true, true, map[string]*string{file: drillFile(string(enc))})
	secrets := []string{sopsPlaintext, "AGE-SECRET-KEY-"}

	t.Run("the right key", func(t *testing.T) {
		t.Parallel()
		res := repo.drillEnv(t, []string{"SOPS_AGE_KEY_FILE=" + opsFile}, "--path", "clusters/dwk", "-o", "json")
		mustSucceed(t, "drill with the right key", res)
		rep := decodeReport(t, res.stdout)
		if !rep.OK || len(rep.Problems) != 0 {
			t.Errorf("report: ok=%t problems=%+v", rep.OK, rep.Problems)
		}
		assertNoneOf(t, res.stdout+res.stderr, secrets)
	})
	for _, tc := range []struct {
		name, message string
		args          []string
	}{
		{"a wrong key backup", "and the age key given (", []string{"--age-key-file", wrongFile}},
		{"no key", "the drill was given no age key", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := repo.drill(t, append([]string{"--path", "clusters/dwk", "-o", "json"}, tc.args...)...)
			if res.code != 1 {
				t.Errorf("exit %d, want 1", res.code)
			}
			rep := decodeReport(t, res.stdout)
			var found *drill.Problem
			for i, p := range rep.Problems {
				if p.Kind == drill.ProblemUndecryptable {
					found = &rep.Problems[i]
				}
			}
			if rep.OK || found == nil || found.File != file || found.Sync != "capstan-system/capstan-system" ||
				!strings.Contains(found.Message, "SOPS-encrypted for "+ops.Recipient().String()) || !strings.Contains(found.Message, tc.message) {
				t.Errorf("report: ok=%t, want an %s problem for %s naming %s: %+v", rep.OK, drill.ProblemUndecryptable, file, ops.Recipient(), rep.Problems)
			}
			for _, s := range rep.Syncs {
				if s.Key() == "capstan-system/capstan-system" && s.State != drill.StateFailed {
					t.Errorf("the root Sync is %s, want Failed: it cannot decrypt %s", s.State, file)
				}
			}
			assertNoneOf(t, res.stdout+res.stderr, secrets)
		})
	}
}

// drillAgeKey writes a new age identity to dir/name as age-keygen does.
func drillAgeKey(t *testing.T, dir, name string) (*age.X25519Identity, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("# public key: "+id.Recipient().String()+"\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return id, p
}

// assertNoneOf fails when text holds one of secrets.
func assertNoneOf(t *testing.T, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("the output holds %q", s)
		}
	}
}
