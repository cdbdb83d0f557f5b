package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Delete, as the content of a path passed to Commit, removes that path.
const Delete = "\x00testenv: delete\x00"

// symlinkPrefix starts the content that Symlink returns.
const symlinkPrefix = "\x00testenv: symlink\x00"

// Symlink returns the content that, passed to Commit for a path, makes that
// path a symbolic link (git mode 120000) to target, which is stored as
// given: it may be absolute or leave the repository.
func Symlink(target string) string { return symlinkPrefix + target }

// gitServerSignature is the author and committer of server-side commits.
func gitServerSignature() object.Signature {
	return object.Signature{Name: "Capstan Test", Email: "test@capstan.invalid", When: time.Now()}
}

// InitRepo creates the empty bare repository repo (reachable as repo.git)
// with HEAD pointing at main. Names may contain slashes ("org/app").
func (s *GitServer) InitRepo(t testing.TB, repo string) {
	t.Helper()
	if _, err := gitServerRepoPath(repo + ".git"); err != nil {
		t.Fatalf("invalid repository name %q: %v", repo, err)
	}
	s.git(t, "init", "--quiet", "--bare", "--initial-branch=main", s.RepoDir(repo))
}

// GitConfig sets a git config value in repo, for example
// uploadpack.allowReachableSHA1InWant=true to let clients fetch any commit.
func (s *GitServer) GitConfig(t testing.TB, repo, key, value string) {
	t.Helper()
	s.git(t, "--git-dir="+s.RepoDir(repo), "config", key, value)
}

// git runs the git binary on the server side with the server's environment.
func (s *GitServer) git(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), s.gitPath, args...)
	cmd.Env = append(s.gitEnv(), "PATH="+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// Commit writes a commit on branch directly into the server's repository,
// on top of the branch's current tip, or as a root commit if the branch does
// not exist. files maps slash-separated paths to their new content; the
// content Delete removes a file or a whole directory, and Symlink(target)
// makes a symbolic link. Other files are kept. It returns the commit hash.
func (s *GitServer) Commit(t testing.TB, repo, branch string, files map[string]string, message string) string {
	t.Helper()
	r := s.openRepo(t, repo)
	name := plumbing.NewBranchReferenceName(branch)
	old, err := r.Storer.Reference(name)
	if err != nil && !errors.Is(err, plumbing.ErrReferenceNotFound) {
		t.Fatalf("reading %s in %s: %v", name, repo, err)
	}
	var base *object.Tree
	var parents []plumbing.Hash
	if old != nil {
		parent, err := r.CommitObject(old.Hash())
		if err != nil {
			t.Fatalf("reading tip of %s in %s: %v", name, repo, err)
		}
		if base, err = parent.Tree(); err != nil {
			t.Fatalf("reading tree of %s in %s: %v", name, repo, err)
		}
		parents = []plumbing.Hash{parent.Hash}
	}
	for p := range files {
		if err := gitServerCheckFile(p); err != nil {
			t.Fatalf("commit to %s: %v", repo, err)
		}
	}
	tree, err := gitServerWriteTree(r.Storer, base, files)
	if err != nil {
		t.Fatalf("writing tree in %s: %v", repo, err)
	}
	sig := gitServerSignature()
	commit := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: tree, ParentHashes: parents}
	hash, err := gitServerStore(r.Storer, commit)
	if err != nil {
		t.Fatalf("writing commit in %s: %v", repo, err)
	}
	if err := r.Storer.CheckAndSetReference(plumbing.NewHashReference(name, hash), old); err != nil {
		t.Fatalf("updating %s in %s: %v", name, repo, err)
	}
	return hash.String()
}

// Tag points tag at commit sha: a lightweight tag if message is empty,
// otherwise an annotated tag object with that message.
func (s *GitServer) Tag(t testing.TB, repo, tag, sha, message string) {
	t.Helper()
	r := s.openRepo(t, repo)
	target := s.commitHash(t, r, sha)
	if message != "" {
		obj := &object.Tag{
			Name: tag, Tagger: gitServerSignature(), Message: message,
			TargetType: plumbing.CommitObject, Target: target,
		}
		var err error
		if target, err = gitServerStore(r.Storer, obj); err != nil {
			t.Fatalf("writing tag %s in %s: %v", tag, repo, err)
		}
	}
	if err := r.Storer.SetReference(plumbing.NewHashReference(plumbing.NewTagReferenceName(tag), target)); err != nil {
		t.Fatalf("writing tag %s in %s: %v", tag, repo, err)
	}
}

// ResetBranch moves branch to commit sha whatever it pointed at before, as a
// force push would.
func (s *GitServer) ResetBranch(t testing.TB, repo, branch, sha string) {
	t.Helper()
	r := s.openRepo(t, repo)
	ref := plumbing.NewHashReference(plumbing.NewBranchReferenceName(branch), s.commitHash(t, r, sha))
	if err := r.Storer.SetReference(ref); err != nil {
		t.Fatalf("resetting %s in %s: %v", branch, repo, err)
	}
}

// DeleteBranch removes branch from repo.
func (s *GitServer) DeleteBranch(t testing.TB, repo, branch string) {
	t.Helper()
	r := s.openRepo(t, repo)
	if err := r.Storer.RemoveReference(plumbing.NewBranchReferenceName(branch)); err != nil {
		t.Fatalf("deleting %s in %s: %v", branch, repo, err)
	}
}

// DeleteTag removes tag from repo, as `git push --delete origin tag` would.
func (s *GitServer) DeleteTag(t testing.TB, repo, tag string) {
	t.Helper()
	r := s.openRepo(t, repo)
	if err := r.Storer.RemoveReference(plumbing.NewTagReferenceName(tag)); err != nil {
		t.Fatalf("deleting tag %s in %s: %v", tag, repo, err)
	}
}

// BranchHead returns the commit branch points at, or "" if it does not exist.
func (s *GitServer) BranchHead(t testing.TB, repo, branch string) string {
	t.Helper()
	ref, err := s.openRepo(t, repo).Storer.Reference(plumbing.NewBranchReferenceName(branch))
	switch {
	case errors.Is(err, plumbing.ErrReferenceNotFound):
		return ""
	case err != nil:
		t.Fatalf("reading %s in %s: %v", branch, repo, err)
	}
	return ref.Hash().String()
}

func (s *GitServer) openRepo(t testing.TB, repo string) *gogit.Repository {
	t.Helper()
	r, err := gogit.PlainOpen(s.RepoDir(repo))
	if err != nil {
		t.Fatalf("opening repository %s: %v", repo, err)
	}
	return r
}

// commitHash checks that sha names a commit in r.
func (s *GitServer) commitHash(t testing.TB, r *gogit.Repository, sha string) plumbing.Hash {
	t.Helper()
	c, err := r.CommitObject(plumbing.NewHash(sha))
	if err != nil {
		t.Fatalf("commit %q: %v", sha, err)
	}
	return c.Hash
}

// gitServerCheckFile refuses file paths that are not clean, relative and
// outside .git.
func gitServerCheckFile(p string) error {
	if p == "" || path.Clean(p) != p || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("invalid file path %q", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if strings.EqualFold(seg, ".git") {
			return fmt.Errorf("invalid file path %q", p)
		}
	}
	return nil
}

// gitServerWriteTree stores the tree that results from applying files to
// base (nil for none) and returns its hash. Directories left empty vanish.
func gitServerWriteTree(st storer.EncodedObjectStorer, base *object.Tree, files map[string]string) (plumbing.Hash, error) {
	entries := map[string]object.TreeEntry{}
	if base != nil {
		for _, e := range base.Entries {
			entries[e.Name] = e
		}
	}
	subdirs := map[string]map[string]string{}
	for p, content := range files {
		if dir, rest, nested := strings.Cut(p, "/"); nested {
			if subdirs[dir] == nil {
				subdirs[dir] = map[string]string{}
			}
			subdirs[dir][rest] = content
			continue
		}
		if content == Delete {
			delete(entries, p)
			continue
		}
		mode := filemode.Regular
		if target, ok := strings.CutPrefix(content, symlinkPrefix); ok {
			content, mode = target, filemode.Symlink
		}
		blob, err := gitServerStoreBlob(st, content)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries[p] = object.TreeEntry{Name: p, Mode: mode, Hash: blob}
	}
	for dir, sub := range subdirs {
		var subBase *object.Tree
		if e, ok := entries[dir]; ok && e.Mode == filemode.Dir {
			var err error
			if subBase, err = object.GetTree(st, e.Hash); err != nil {
				return plumbing.ZeroHash, err
			}
		}
		h, err := gitServerWriteTree(st, subBase, sub)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		delete(entries, dir)
		if h.String() != gitServerEmptyTree {
			entries[dir] = object.TreeEntry{Name: dir, Mode: filemode.Dir, Hash: h}
		}
	}
	return gitServerStore(st, &object.Tree{Entries: gitServerSortEntries(entries)})
}

// gitServerEmptyTree is the hash of the tree with no entries.
const gitServerEmptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// gitServerSortEntries orders entries as git does: by name, with directory
// names compared as if they ended in "/".
func gitServerSortEntries(entries map[string]object.TreeEntry) []object.TreeEntry {
	out := make([]object.TreeEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, e)
	}
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

func gitServerStoreBlob(st storer.EncodedObjectStorer, content string) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write([]byte(content)); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

// gitServerStore encodes a commit, tree or tag object into st.
func gitServerStore(st storer.EncodedObjectStorer, obj interface {
	Encode(plumbing.EncodedObject) error
}) (plumbing.Hash, error) {
	enc := st.NewEncodedObject()
	if err := obj.Encode(enc); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(enc)
}
