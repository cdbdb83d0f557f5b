package testenv

import (
	"os/exec"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"
)

func TestGitServerRepoHelpers(t *testing.T) {
	t.Parallel()
	srv := NewGitServer(t)
	srv.InitRepo(t, "org/app")
	first := srv.Commit(t, "org/app", "main", map[string]string{
		"a/b/c.txt": "c", "a/d.txt": "d", "a-b.txt": "ab", "e.txt": "e",
	}, "first")
	second := srv.Commit(t, "org/app", "main", map[string]string{
		"a/b/c.txt": Delete, "e.txt": "e2", "f/g.txt": "g",
	}, "second")
	srv.Tag(t, "org/app", "v1", first, "")
	srv.Tag(t, "org/app", "v2", second, "release v2")

	tests := []struct {
		name      string
		rev       string
		wantFiles map[string]string
	}{
		{"first commit", first, map[string]string{"a/b/c.txt": "c", "a/d.txt": "d", "a-b.txt": "ab", "e.txt": "e"}},
		{"second commit", second, map[string]string{"a/d.txt": "d", "a-b.txt": "ab", "e.txt": "e2", "f/g.txt": "g"}},
		{"lightweight tag", "v1", map[string]string{"a/b/c.txt": "c", "a/d.txt": "d", "a-b.txt": "ab", "e.txt": "e"}},
		{"annotated tag", "v2", map[string]string{"a/d.txt": "d", "a-b.txt": "ab", "e.txt": "e2", "f/g.txt": "g"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := srv.openRepo(t, "org/app")
			hash, err := r.ResolveRevision(plumbing.Revision(tt.rev))
			if err != nil {
				t.Fatalf("resolving %s: %v", tt.rev, err)
			}
			commit, err := r.CommitObject(*hash)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantFiles, testTreeFiles(t, commit)); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}

	// git itself must accept what go-git wrote, tree order included.
	if out, err := exec.CommandContext(t.Context(), "git", "--git-dir="+srv.RepoDir("org/app"), "fsck", "--strict").CombinedOutput(); err != nil {
		t.Fatalf("git fsck: %v\n%s", err, out)
	}

	srv.ResetBranch(t, "org/app", "main", first)
	if got := srv.BranchHead(t, "org/app", "main"); got != first {
		t.Errorf("after ResetBranch main = %s, want %s", got, first)
	}
	srv.DeleteBranch(t, "org/app", "main")
	if got := srv.BranchHead(t, "org/app", "main"); got != "" {
		t.Errorf("after DeleteBranch main = %s, want none", got)
	}
}

// testTreeFiles lists every file of a commit with its content.
func testTreeFiles(t *testing.T, c *object.Commit) map[string]string {
	t.Helper()
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	err = files.ForEach(func(f *object.File) error {
		content, err := f.Contents()
		got[f.Name] = content
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestGitServerCommitSymlink(t *testing.T) {
	t.Parallel()
	srv := NewGitServer(t)
	srv.InitRepo(t, "app")
	hash := srv.Commit(t, "app", "main", map[string]string{
		"a/escape.yaml": Symlink("../../../../etc/passwd"),
		"a/abs":         Symlink("/etc"),
		"a/file.txt":    "plain",
	}, "links")
	commit, err := srv.openRepo(t, "app").CommitObject(plumbing.NewHash(hash))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := commit.Tree()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]filemode.FileMode{"a/escape.yaml": filemode.Symlink, "a/abs": filemode.Symlink, "a/file.txt": filemode.Regular} {
		e, err := tree.FindEntry(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if e.Mode != want {
			t.Errorf("%s has mode %s, want %s", name, e.Mode, want)
		}
	}
	if diff := cmp.Diff(map[string]string{"a/escape.yaml": "../../../../etc/passwd", "a/abs": "/etc", "a/file.txt": "plain"}, testTreeFiles(t, commit)); diff != "" {
		t.Errorf("link targets (-want +got):\n%s", diff)
	}
	if out, err := exec.CommandContext(t.Context(), "git", "--git-dir="+srv.RepoDir("app"), "fsck", "--strict").CombinedOutput(); err != nil {
		t.Fatalf("git fsck: %v\n%s", err, out)
	}
}
