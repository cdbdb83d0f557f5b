package git

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	gogit "github.com/go-git/go-git/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

// seedRepo makes a repository with two commits on main, a lightweight tag
// v1 on the first, an annotated tag v2 on the second and a feature branch.
func seedRepo(t *testing.T, srv *testenv.GitServer, repo string) (c1, c2, c3 string) {
	t.Helper()
	srv.InitRepo(t, repo)
	c1 = srv.Commit(t, repo, "main", map[string]string{"app/a.yaml": "one"}, "first")
	srv.Tag(t, repo, "v1", c1, "")
	c2 = srv.Commit(t, repo, "main", map[string]string{"app/a.yaml": "two"}, "second")
	srv.Tag(t, repo, "v2", c2, "release v2")
	srv.ResetBranch(t, repo, "feature", c1)
	c3 = srv.Commit(t, repo, "feature", map[string]string{"app/b.yaml": "feature"}, "feature")
	return c1, c2, c3
}

func TestResolveAndClone(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	c1, c2, c3 := seedRepo(t, srv, "app")
	s1, _, _ := seedRepo(t, srv, "app-sha") // other commits: timestamps differ
	srv.GitConfig(t, "app-sha", "uploadpack.allowReachableSHA1InWant", "true")

	tests := []struct {
		name        string
		repo        string
		ref         Ref
		want        Revision
		wantFiles   map[string]string
		wantShallow bool
	}{
		{"default branch", "app", Ref{}, NewRevision("main", c2), map[string]string{"app/a.yaml": "two"}, true},
		{"branch", "app", Ref{Branch: "main"}, NewRevision("main", c2), map[string]string{"app/a.yaml": "two"}, true},
		{"other branch", "app", Ref{Branch: "feature"}, NewRevision("feature", c3), map[string]string{"app/a.yaml": "one", "app/b.yaml": "feature"}, true},
		{"lightweight tag", "app", Ref{Tag: "v1"}, NewRevision("v1", c1), map[string]string{"app/a.yaml": "one"}, true},
		{"annotated tag", "app", Ref{Tag: "v2"}, NewRevision("v2", c2), map[string]string{"app/a.yaml": "two"}, true},
		{"commit, full fetch fallback", "app", Ref{Commit: c1}, NewRevision("", c1), map[string]string{"app/a.yaml": "one"}, false},
		{"commit on branch, fallback", "app", Ref{Branch: "main", Commit: c1}, NewRevision("main", c1), map[string]string{"app/a.yaml": "one"}, false},
		{"commit fetched by hash", "app-sha", Ref{Commit: s1}, NewRevision("", s1), map[string]string{"app/a.yaml": "one"}, true},
	}
	for _, tr := range testTransports() {
		for _, tt := range tests {
			t.Run(tr.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				ep, auth := testEndpoint(t, tr.url(srv, tt.repo)), tr.auth(srv)
				got, err := Resolve(t.Context(), ep, auth, tt.ref)
				if err != nil || got != tt.want {
					t.Fatalf("Resolve() = %q, %v; want %q", got, err, tt.want)
				}
				dir := filepath.Join(t.TempDir(), "clone")
				if got, err = Clone(t.Context(), ep, auth, tt.ref, dir); err != nil || got != tt.want {
					t.Fatalf("Clone() = %q, %v; want %q", got, err, tt.want)
				}
				if diff := cmp.Diff(tt.wantFiles, readFiles(t, dir)); diff != "" {
					t.Errorf("cloned files (-want +got):\n%s", diff)
				}
				if shallow := isShallow(t, dir); shallow != tt.wantShallow {
					t.Errorf("shallow clone = %v, want %v", shallow, tt.wantShallow)
				}
			})
		}
	}
}

// readFiles returns every file of a checkout outside .git.
func readFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Name() == ".git" {
			if err == nil {
				err = filepath.SkipDir
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func isShallow(t *testing.T, dir string) bool {
	t.Helper()
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	shallow, err := repo.Storer.Shallow()
	if err != nil {
		t.Fatal(err)
	}
	return len(shallow) > 0
}

func TestCloneHonoursContext(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	c1, _, _ := seedRepo(t, srv, "app")
	for _, tr := range testTransports() {
		for _, ref := range []Ref{{Branch: "main"}, {Commit: c1}} {
			t.Run(tr.name+"/"+ref.String(), func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				ep := testEndpoint(t, tr.url(srv, "app"))
				_, err := Clone(ctx, ep, tr.auth(srv), ref, filepath.Join(t.TempDir(), "clone"))
				if !errorsIsContext(err) {
					t.Fatalf("Clone() with a cancelled context = %v, want context.Canceled", err)
				}
				if IsTerminal(err) {
					t.Errorf("cancellation %v is terminal", err)
				}
			})
		}
	}
}
