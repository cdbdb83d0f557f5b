package git

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

func testAuthor() Signature { return Signature{Name: "Capstan", Email: "capstan@example.invalid"} }

// testCommitPush opens branch, writes files, commits if changed and pushes.
func testCommitPush(t *testing.T, ep Endpoint, auth Auth, branch string, files map[string][]byte) (string, bool) {
	t.Helper()
	w, err := OpenBranch(t.Context(), ep, auth, branch, filepath.Join(t.TempDir(), "work"))
	if err != nil {
		t.Fatalf("OpenBranch: %v", err)
	}
	if err := w.WriteFiles(t.Context(), files); err != nil {
		t.Fatalf("WriteFiles: %v", err)
	}
	sha, changed, err := w.CommitIfChanged(t.Context(), testAuthor(), "capstan bootstrap")
	if err != nil {
		t.Fatalf("CommitIfChanged: %v", err)
	}
	if err := w.Push(t.Context()); err != nil {
		t.Fatalf("Push: %v", err)
	}
	return sha, changed
}

func TestBootstrapFlow(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	for _, tr := range testTransports() {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			srv.InitRepo(t, tr.name)
			ep, auth := testEndpoint(t, tr.url(srv, tr.name)), tr.auth(srv)
			files := map[string][]byte{"clusters/prod/capstan.yaml": []byte("kind: Sync\n")}

			first, changed := testCommitPush(t, ep, auth, "main", files)
			if !changed || srv.BranchHead(t, tr.name, "main") != first {
				t.Fatalf("first run: changed=%v sha=%s, server main=%s", changed, first, srv.BranchHead(t, tr.name, "main"))
			}
			again, changed := testCommitPush(t, ep, auth, "main", files)
			if changed || again != first {
				t.Fatalf("second run: changed=%v sha=%s, want unchanged %s", changed, again, first)
			}
			files["clusters/prod/capstan.yaml"] = []byte("kind: Sync\nspec: {}\n")
			third, changed := testCommitPush(t, ep, auth, "main", files)
			if !changed || srv.BranchHead(t, tr.name, "main") != third {
				t.Fatalf("third run: changed=%v sha=%s, server main=%s", changed, third, srv.BranchHead(t, tr.name, "main"))
			}
			rev, err := Resolve(t.Context(), ep, auth, Ref{Branch: "main"})
			if err != nil || rev != NewRevision("main", third) {
				t.Fatalf("Resolve() = %s, %v; want main@sha1:%s", rev, err, third)
			}
		})
	}
}

func TestOpenBranchCreatesMissingBranch(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "app")
	main := srv.Commit(t, "app", "main", map[string]string{"README": "hi"}, "initial")
	ep := testEndpoint(t, srv.SSHURL("app"))
	auth := Auth{Identity: srv.ClientPrivateKeyPEM(), KnownHosts: srv.KnownHosts()}

	sha, changed := testCommitPush(t, ep, auth, "capstan", map[string][]byte{"a.yaml": []byte("a")})
	if !changed || srv.BranchHead(t, "app", "capstan") != sha || srv.BranchHead(t, "app", "main") != main {
		t.Fatalf("branch capstan=%s main=%s, want %s and untouched %s",
			srv.BranchHead(t, "app", "capstan"), srv.BranchHead(t, "app", "main"), sha, main)
	}
	repo, err := gogit.PlainOpen(srv.RepoDir("app"))
	if err != nil {
		t.Fatal(err)
	}
	commit, err := repo.CommitObject(plumbing.NewHash(sha))
	if err != nil || commit.NumParents() != 0 {
		t.Fatalf("new branch commit: %v, %d parents; want a root commit", err, commit.NumParents())
	}
}

// raceCase prepares a repository, then changes it behind the back of a
// worktree that was opened on it.
type raceCase struct {
	name  string
	setup func(t *testing.T, repo string) // before opening
	race  func(t *testing.T, repo string) // after opening, before pushing
}

func raceCases(srv *testenv.GitServer) []raceCase {
	return []raceCase{
		{"somebody pushed", func(t *testing.T, repo string) {
			srv.Commit(t, repo, "main", map[string]string{"a": "1"}, "one")
		}, func(t *testing.T, repo string) {
			srv.Commit(t, repo, "main", map[string]string{"b": "2"}, "two")
		}},
		{"somebody force-pushed back", func(t *testing.T, repo string) {
			srv.Commit(t, repo, "main", map[string]string{"a": "1"}, "one")
			srv.Commit(t, repo, "main", map[string]string{"b": "2"}, "two")
		}, func(t *testing.T, repo string) {
			r, _ := gogit.PlainOpen(srv.RepoDir(repo))
			tip, _ := r.CommitObject(plumbing.NewHash(srv.BranchHead(t, repo, "main")))
			srv.ResetBranch(t, repo, "main", tip.ParentHashes[0].String())
		}},
		{"somebody created the branch", func(*testing.T, string) {}, func(t *testing.T, repo string) {
			srv.Commit(t, repo, "main", map[string]string{"a": "1"}, "one")
		}},
		{"somebody deleted the branch", func(t *testing.T, repo string) {
			srv.Commit(t, repo, "main", map[string]string{"a": "1"}, "one")
		}, func(t *testing.T, repo string) {
			srv.DeleteBranch(t, repo, "main")
		}},
	}
}

func TestPushDetectsNonFastForward(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	for i, tt := range raceCases(srv) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := "app" + string(rune('a'+i))
			srv.InitRepo(t, repo)
			tt.setup(t, repo)
			ep := testEndpoint(t, srv.HTTPURL(repo))
			auth := Auth{Username: srv.Username(), Password: srv.Password()}
			w, err := OpenBranch(t.Context(), ep, auth, "main", filepath.Join(t.TempDir(), "work"))
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteFiles(t.Context(), map[string][]byte{"mine.yaml": []byte("mine")}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := w.CommitIfChanged(t.Context(), testAuthor(), "mine"); err != nil {
				t.Fatal(err)
			}
			tt.race(t, repo)
			before := srv.BranchHead(t, repo, "main")
			err = w.Push(t.Context())
			if !errors.Is(err, ErrNonFastForward) || IsTerminal(err) {
				t.Fatalf("Push() = %v, want a transient ErrNonFastForward", err)
			}
			if after := srv.BranchHead(t, repo, "main"); after != before {
				t.Errorf("rejected push moved main from %s to %s", before, after)
			}
			// Starting over converges.
			if _, changed := testCommitPush(t, ep, auth, "main", map[string][]byte{"mine.yaml": []byte("mine")}); !changed {
				t.Errorf("retry found nothing to commit")
			}
		})
	}
}

func TestWriteFilesRefusesEscapes(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "app")
	ep := testEndpoint(t, srv.HTTPURL("app"))
	auth := Auth{Username: srv.Username(), Password: srv.Password()}
	outside := t.TempDir()
	for _, p := range []string{"", "../x", "/etc/x", "a/../../x", "a/../b", "./a", "a//b", ".git/config", "a/.GIT/hooks/x", `a\..\x`, "link/x"} {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			w, err := OpenBranch(t.Context(), ep, auth, "main", filepath.Join(t.TempDir(), "work"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(w.Dir(), "link")); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteFiles(t.Context(), map[string][]byte{p: []byte("x")}); err == nil {
				t.Fatalf("WriteFiles(%q) succeeded", p)
			}
			if entries, _ := os.ReadDir(outside); len(entries) > 0 {
				t.Fatalf("WriteFiles(%q) wrote outside the worktree", p)
			}
		})
	}
}

func TestCommitIfChangedOnEmptyBranch(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "app")
	ep := testEndpoint(t, srv.HTTPURL("app"))
	auth := Auth{Username: srv.Username(), Password: srv.Password()}
	w, err := OpenBranch(t.Context(), ep, auth, "main", filepath.Join(t.TempDir(), "work"))
	if err != nil {
		t.Fatal(err)
	}
	sha, changed, err := w.CommitIfChanged(t.Context(), testAuthor(), "nothing")
	if err != nil || changed || sha != "" {
		t.Fatalf("CommitIfChanged() = %q, %v, %v; want nothing", sha, changed, err)
	}
	if err := w.Push(t.Context()); err == nil {
		t.Fatal("Push() of an unborn branch succeeded")
	}
	if _, _, err := w.CommitIfChanged(t.Context(), Signature{}, "x"); err == nil {
		t.Fatal("CommitIfChanged() without an author succeeded")
	}
}
