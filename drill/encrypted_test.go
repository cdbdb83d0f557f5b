package drill

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/sops"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// TestUndecryptableFiles reads a clone with SOPS-encrypted files under two
// Syncs' paths, as the drill does, and checks that each file the key given
// does not open is one problem naming the file, the Sync whose path is
// closest to it and the public recipients (never an identity), that a
// Sync failed for that reason is not reported twice, and that a key
// opening every file leaves no problem and builds the plaintext.
func TestUndecryptableFiles(t *testing.T) {
	t.Parallel()
	ops, backup, stranger := testenv.NewAgeIdentity(t), testenv.NewAgeIdentity(t), testenv.NewAgeIdentity(t)
	root := repoDir(t, map[string]string{
		"clusters/dwk/capstan-system/sync.yaml": "apiVersion: capstan.dev/v1\nkind: Sync\nmetadata: {name: capstan-system, namespace: capstan-system}\nspec: {url: https://git.example.com/fleet, path: clusters/dwk}\n",
		"clusters/dwk/kustomization.yaml":       "resources:\n- apps.yaml\n- api.json\n",
		"clusters/dwk/apps.yaml":                "apiVersion: capstan.dev/v1\nkind: Sync\nmetadata: {name: apps, namespace: capstan-system}\nspec: {url: https://git.example.com/fleet, path: clusters/dwk/apps}\n",
		"clusters/dwk/apps/db.yaml":             encrypt(t, sops.YAML, "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: default}\nstringData: {password: PLAINTEXT-db}\n", ops),
		"clusters/dwk/apps/plain.yaml":          cmYAML("plain"),
		"clusters/dwk/api.json":                 encrypt(t, sops.JSON, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"api","namespace":"default"},"stringData":{"token":"PLAINTEXT-api"}}`, ops, backup),
		"clusters/dwk/.hidden/skip.yaml":        encrypt(t, sops.YAML, "a: PLAINTEXT-hidden\n", stranger),
		"other/outside.yaml":                    encrypt(t, sops.YAML, "a: PLAINTEXT-outside\n", stranger),
	})
	components, err := build.Decode("sync.yaml", []byte("apiVersion: capstan.dev/v1\nkind: Sync\nmetadata: {name: capstan-system, namespace: capstan-system}\nspec: {url: https://git.example.com/fleet, path: clusters/dwk}\n"))
	if err != nil {
		t.Fatal(err)
	}
	// The apps Sync is only known once the root's path builds: until
	// then its file is under the root's path.
	dbProblem := func(sync, msg string) Problem {
		return Problem{Kind: ProblemUndecryptable, Object: "Sync capstan-system/" + sync, File: "clusters/dwk/apps/db.yaml", Sync: "capstan-system/" + sync, Message: msg}
	}
	apiProblem := func(msg string) Problem {
		return Problem{Kind: ProblemUndecryptable, Object: "Sync capstan-system/capstan-system", File: "clusters/dwk/api.json", Sync: "capstan-system/capstan-system", Message: msg}
	}
	noKey := "SOPS-encrypted for %s and the drill was given no age key: a rebuild needs the key of one of these recipients; pass it with --age-key-file to check your key backup"
	wrongKey := "SOPS-encrypted for %s, and the age key given (%s) opens none of them: a rebuild with this key cannot apply it; find the key of one of these recipients, or encrypt the file again for yours"
	tests := []struct {
		name string
		ids  []age.Identity
		want []Problem
	}{
		{"no key", nil, []Problem{
			apiProblem(fmt.Sprintf(noKey, ops.Recipient().String()+", "+backup.Recipient().String())),
			dbProblem("capstan-system", fmt.Sprintf(noKey, ops.Recipient().String())),
		}},
		{"a wrong key backup", []age.Identity{stranger}, []Problem{
			apiProblem(fmt.Sprintf(wrongKey, ops.Recipient().String()+", "+backup.Recipient().String(), stranger.Recipient().String())),
			dbProblem("capstan-system", fmt.Sprintf(wrongKey, ops.Recipient().String(), stranger.Recipient().String())),
		}},
		{"a key that opens one file", []age.Identity{backup}, []Problem{
			dbProblem("apps", fmt.Sprintf(wrongKey, ops.Recipient().String(), backup.Recipient().String())),
		}},
		{"the right key", []age.Identity{stranger, ops}, nil},
	}
	facts := clusterFacts()
	facts.existing["Namespace"]["capstan-system"] = true
	facts.kinds[schema.GroupKind{Group: capstanv1.Group, Kind: capstanv1.SyncKind}] = kindInfo{Namespaced: true, Versions: map[string]bool{"v1": true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tree := buildTree(t.Context(), root, components, func(*capstanv1.Sync) bool { return true }, tt.ids)
			sealed, err := findSealed(root, tree)
			if err != nil {
				t.Fatal(err)
			}
			got := sealedProblems(sealed, tt.ids)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			for _, p := range got {
				if strings.Contains(p.Message, "AGE-SECRET-KEY") || strings.Contains(p.Message, "PLAINTEXT") {
					t.Errorf("a problem shows a secret: %s", p.Message)
				}
			}
			// The Syncs fail to decrypt as the controller would; the
			// report tells it once, with the file.
			var lives []*liveSync
			for _, s := range tree {
				if s.Err != nil {
					if !build.IsDecryptionError(s.Err) {
						t.Errorf("Sync %s: %v, want a decryption error", s.Key(), s.Err)
					}
					lives = append(lives, live(s.Name, s.Path, failed, 0, 0, capstanv1.DecryptionFailedReason, s.Err.Error()))
				} else {
					lives = append(lives, live(s.Name, s.Path, ready, 0, 0, "", ""))
				}
			}
			r := assemble(head(false), lives, tree, append(diagnose(tree, facts, nil, nil), got...))
			want := slices.Clone(tt.want)
			sortProblems(want)
			if diff := cmp.Diff(want, r.Problems); tt.want != nil && diff != "" {
				t.Errorf("report problems (-want +got):\n%s", diff)
			}
			if r.OK != (tt.want == nil) {
				t.Errorf("report OK = %v with %d problems", r.OK, len(r.Problems))
			}
		})
	}
}

// TestUnreadableSOPSBlock: a file whose sops block is malformed is a
// problem whatever the key.
func TestUnreadableSOPSBlock(t *testing.T) {
	t.Parallel()
	files := []sealedFile{{EncryptedFile: sops.EncryptedFile{Path: "apps/bad.yaml", Err: &sops.Error{Err: sops.ErrMalformed}}, Sync: "capstan-system/apps"}}
	got := sealedProblems(files, []age.Identity{testenv.NewAgeIdentity(t)})
	if len(got) != 1 || got[0].File != "apps/bad.yaml" || !strings.Contains(got[0].Message, "its sops block cannot be read: malformed SOPS file") {
		t.Errorf("problems = %+v", got)
	}
}

func encrypt(t *testing.T, f sops.Format, plain string, to ...*age.X25519Identity) string {
	t.Helper()
	var recips []string
	for _, id := range to {
		recips = append(recips, id.Recipient().String())
	}
	enc, err := sops.Encrypt([]byte(plain), f, sops.EncryptOptions{Recipients: recips})
	if err != nil {
		t.Fatal(err)
	}
	return string(enc)
}
