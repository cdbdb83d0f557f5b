package bootstrap

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/capstan-gitops/capstan/clusters"
	"github.com/capstan-gitops/capstan/internal/git"
	"github.com/capstan-gitops/capstan/internal/sops"
	"github.com/capstan-gitops/capstan/internal/steps"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// errNoCluster ends a run at the Cluster step.
var errNoCluster = errors.New("no cluster in this test")

// countingCluster records whether the plan got to the cluster at all.
type countingCluster struct{ calls atomic.Int32 }

func (c *countingCluster) Ensure(context.Context) (clusters.Cluster, error) {
	c.calls.Add(1)
	return clusters.Cluster{}, errNoCluster
}

func encryptedFor(t *testing.T, recipient string) string {
	t.Helper()
	out, err := sops.Encrypt([]byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  pw: PLAINTEXT\n"), sops.YAML,
		sops.EncryptOptions{Recipients: []string{recipient}, EncryptedRegex: "^(data|stringData)$"})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestRefusesBeforeTheCluster: what the repository says about keys is
// checked before the cluster is created or reached and before anything is
// written: a bootstrap that cannot decrypt the path's encrypted files, or
// whose generated key's .sops.yaml rule cannot fit, stops at the
// Repository step, naming the files and recipients; no commit is pushed,
// no key file written, no cluster touched.
func TestRefusesBeforeTheCluster(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	team := testenv.NewAgeIdentity(t).Recipient().String()
	tests := []struct {
		name     string
		files    map[string]string
		generate bool
		key      []byte
		want     []string
	}{
		{name: "encrypted files and no key", files: map[string]string{"clusters/dwk/apps/db.yaml": encryptedFor(t, team)},
			want: []string{"clusters/dwk holds SOPS-encrypted files and no age key was given (--age-key-file)", "clusters/dwk/apps/db.yaml (encrypted for " + team + ")"}},
		{name: "encrypted files and another key", files: map[string]string{"clusters/dwk/apps/db.yaml": encryptedFor(t, team)},
			key:  []byte(testenv.NewAgeIdentity(t).String() + "\n"),
			want: []string{"opens none of these SOPS-encrypted files: clusters/dwk/apps/db.yaml (encrypted for " + team + ")"}},
		{name: "encrypted files and a new key", files: map[string]string{"clusters/dwk/apps/db.yaml": encryptedFor(t, team)}, generate: true,
			want: []string{"a new age key cannot open", "clusters/dwk/apps/db.yaml (encrypted for " + team + ")"}},
		{name: "a .sops.yaml rule for other keys and a new key", generate: true,
			files: map[string]string{".sops.yaml": "creation_rules:\n  - path_regex: ^clusters/\n    age: " + team + "\n", "clusters/dwk/a.yaml": "kind: ConfigMap\n"},
			want:  []string{"already has a rule for clusters/dwk/secret.env (creation_rules[0], for " + team + ")"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := "r" + string(rune('a'+i))
			srv.InitRepo(t, name)
			head := srv.Commit(t, name, "main", tt.files, "the fleet")
			keyFile := filepath.Join(t.TempDir(), "age.key")
			opts := Options{URL: srv.HTTPURL(name), Branch: "main", Path: "clusters/dwk", AgeKey: tt.key,
				Auth: git.Auth{Username: srv.Username(), Password: srv.Password()}, Author: git.Signature{Name: "t", Email: "t@example.com"}}
			if tt.generate {
				opts.GenerateAgeKey = keyFile
			}
			cl := &countingCluster{}
			var out bytes.Buffer
			err := Run(t.Context(), opts, Deps{Cluster: cl, Reporter: steps.NewPrinter(io.Discard, steps.PrinterOptions{}), Out: &out})
			var se *steps.StepError
			if !errors.As(err, &se) || se.Step != "Repository" || se.Hint() == "" {
				t.Fatalf("err %v, want a refusal of the Repository step with a hint", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the refusal does not say %q:\n%v", w, err)
				}
			}
			if cl.calls.Load() != 0 {
				t.Error("the cluster was created or reached")
			}
			if got := srv.BranchHead(t, name, "main"); got != head {
				t.Error("the branch moved")
			}
			if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the key file was written: %v", err)
			}
			if out.Len() > 0 {
				t.Errorf("stdout: %s", out.String())
			}
		})
	}
}

// TestGenerateAgeKeyWritesTheKeyFirst: --generate-age-key writes an age
// identity, readable by its owner only, before the cluster step, and
// prints its recipient and what losing it means; it never overwrites a
// file and is exclusive with --age-key-file.
func TestGenerateAgeKeyWritesTheKeyFirst(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "fleet")
	opts := Options{URL: srv.HTTPURL("fleet"), Branch: "main", Path: "clusters/dwk",
		Auth: git.Auth{Username: srv.Username(), Password: srv.Password()}}
	keyFile := filepath.Join(t.TempDir(), "age.key")
	opts.GenerateAgeKey = keyFile
	cl := &countingCluster{}
	var out bytes.Buffer
	deps := Deps{Cluster: cl, Reporter: steps.NewPrinter(io.Discard, steps.PrinterOptions{}), Out: &out}
	if err := Run(t.Context(), opts, deps); !errors.Is(err, errNoCluster) {
		t.Fatalf("err %v, want the run to reach the cluster", err)
	}
	st, err := os.Stat(keyFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, st)
	}
	data, _ := os.ReadFile(keyFile)
	ids, err := sops.ParseIdentities(data)
	if err != nil || len(ids) != 1 {
		t.Fatalf("the key file holds no age identity: %v", err)
	}
	recipient := sops.Recipient(ids[0])
	for _, w := range []string{keyFile, recipient, "if you lose it, you lose the Secrets", "--age-key-file " + keyFile} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("stdout does not say %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "AGE-SECRET-KEY") {
		t.Error("stdout shows the private key")
	}

	again := Run(t.Context(), opts, deps)
	if again == nil || !strings.Contains(again.Error(), "never overwrites") {
		t.Errorf("second run: %v, want a refusal to overwrite", again)
	}
	if after, _ := os.ReadFile(keyFile); !bytes.Equal(after, data) {
		t.Error("the key file changed")
	}
	opts.AgeKey = data
	if err := Run(t.Context(), opts, deps); err == nil || !strings.Contains(err.Error(), "exclusive") {
		t.Errorf("with --age-key-file: %v, want exclusive", err)
	}
	if cl.calls.Load() != 1 {
		t.Errorf("the cluster was reached %d times, want once", cl.calls.Load())
	}
}
