package git

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Worktree is a local checkout of one branch of a remote, to write files,
// commit them and push them back. It remembers the remote tip it started
// from, so that Push can tell when somebody else pushed in between. A
// Worktree is not safe for concurrent use.
type Worktree struct {
	repo   *gogit.Repository
	dir    string
	ep     Endpoint
	auth   Auth
	access remoteAccess
	branch plumbing.ReferenceName
	base   plumbing.Hash // remote tip when opened or last pushed; zero if none
}

// Signature is the author of a commit.
type Signature struct {
	Name  string
	Email string
}

// OpenBranch checks out branch of the remote into dir, which must be empty
// or not exist. If the branch exists it is cloned at depth 1. If the
// repository is empty or lacks the branch, dir is initialised with the
// branch unborn, so that the first commit starts it with no parent (it does
// not fork another branch).
func OpenBranch(ctx context.Context, ep Endpoint, auth Auth, branch, dir string) (*Worktree, error) {
	w, err := openBranch(ctx, ep, auth, branch, dir)
	return w, wrapErr(fmt.Sprintf("opening branch %q of", branch), ep, auth, err)
}

func openBranch(ctx context.Context, ep Endpoint, auth Auth, branch, dir string) (*Worktree, error) {
	if branch == "" {
		return nil, fmt.Errorf("%w: empty branch name", ErrInvalidRef)
	}
	if err := (Ref{Branch: branch}).validate(); err != nil {
		return nil, err
	}
	acc, err := auth.access(ctx, ep)
	if err != nil {
		return nil, err
	}
	w := &Worktree{dir: dir, ep: ep, auth: auth, access: acc, branch: plumbing.NewBranchReferenceName(branch)}
	tip, err := w.remoteTip(ctx)
	if err != nil {
		return nil, err
	}
	if tip.IsZero() {
		w.repo, err = initBranch(dir, ep, w.branch)
		return w, err
	}
	w.repo, err = gogit.PlainCloneContext(ctx, dir, false, &gogit.CloneOptions{
		URL: ep.url, Auth: acc.method, CABundle: acc.caBundle, ReferenceName: w.branch, SingleBranch: true, Depth: 1, Tags: gogit.NoTags,
	})
	if err != nil {
		return nil, err
	}
	head, err := w.repo.Head() // not tip: the branch may have moved since
	if err != nil {
		return nil, fmt.Errorf("reading HEAD of the clone: %w", err)
	}
	w.base = head.Hash()
	return w, nil
}

// initBranch makes an empty repository whose HEAD is the unborn branch.
func initBranch(dir string, ep Endpoint, branch plumbing.ReferenceName) (*gogit.Repository, error) {
	repo, err := gogit.PlainInitWithOptions(dir, &gogit.PlainInitOptions{
		InitOptions: gogit.InitOptions{DefaultBranch: branch},
	})
	if err != nil {
		return nil, fmt.Errorf("initialising %s: %w", dir, err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{ep.url}}); err != nil {
		return nil, fmt.Errorf("adding remote: %w", err)
	}
	return repo, nil
}

// remoteTip is the remote's commit for the branch, zero if the branch or
// the whole repository is empty.
func (w *Worktree) remoteTip(ctx context.Context) (plumbing.Hash, error) {
	refs, err := listRefs(ctx, w.ep, w.access)
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if r, ok := refs[w.branch]; ok {
		return r.Hash(), nil
	}
	return plumbing.ZeroHash, nil
}

// Dir is the worktree's directory.
func (w *Worktree) Dir() string { return w.dir }

// Branch is the branch name, without refs/heads/.
func (w *Worktree) Branch() string { return w.branch.Short() }

// WriteFiles writes files, keyed by slash-separated paths relative to the
// worktree, creating directories as needed. Paths that are absolute, leave
// the worktree (also through symlinks) or touch .git are refused.
func (w *Worktree) WriteFiles(ctx context.Context, files map[string][]byte) error {
	root, err := os.OpenRoot(w.dir)
	if err != nil {
		return fmt.Errorf("opening worktree: %w", err)
	}
	defer func() { _ = root.Close() }()
	for p, content := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := checkWorktreePath(p); err != nil {
			return err
		}
		name := filepath.FromSlash(p)
		if err := root.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		if err := root.WriteFile(name, content, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
	}
	return nil
}

// checkWorktreePath refuses paths that are not clean and local, or that
// name .git in any letter case.
func checkWorktreePath(p string) error {
	if p == "" || path.Clean(p) != p || !filepath.IsLocal(filepath.FromSlash(p)) || strings.Contains(p, "\\") {
		return fmt.Errorf("invalid file path %q: must be a clean relative path", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if strings.EqualFold(seg, ".git") {
			return fmt.Errorf("invalid file path %q: inside .git", p)
		}
	}
	return nil
}

// CommitIfChanged stages every change in the worktree, additions and
// deletions alike, and commits it. With nothing to commit it returns the
// current commit ("" on an unborn branch) and changed false.
func (w *Worktree) CommitIfChanged(ctx context.Context, author Signature, message string) (sha string, changed bool, err error) {
	if author.Name == "" || author.Email == "" {
		return "", false, errors.New("commit author needs a name and an email")
	}
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	wt, err := w.repo.Worktree()
	if err != nil {
		return "", false, fmt.Errorf("opening worktree: %w", err)
	}
	if err := wt.AddWithOptions(&gogit.AddOptions{All: true}); err != nil {
		return "", false, fmt.Errorf("staging changes: %w", err)
	}
	status, err := wt.Status()
	if err != nil {
		return "", false, fmt.Errorf("reading worktree status: %w", err)
	}
	if status.IsClean() {
		head, err := w.repo.Head()
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("reading HEAD: %w", err)
		}
		return head.Hash().String(), false, nil
	}
	sig := &object.Signature{Name: author.Name, Email: author.Email, When: time.Now()}
	hash, err := wt.Commit(message, &gogit.CommitOptions{Author: sig})
	if err != nil {
		return "", false, fmt.Errorf("committing: %w", err)
	}
	return hash.String(), true, nil
}

// Push pushes the branch. It returns ErrNonFastForward if the remote branch
// is no longer where it was when the worktree was opened or last pushed:
// somebody else pushed, and the caller should open the branch again and
// redo its change. Pushing with nothing new is a no-op.
func (w *Worktree) Push(ctx context.Context) error {
	return wrapErr(fmt.Sprintf("pushing branch %q to", w.Branch()), w.ep, w.auth, w.push(ctx))
}

func (w *Worktree) push(ctx context.Context) error {
	head, err := w.repo.Head()
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return errors.New("nothing to push: the branch has no commits")
	}
	if err != nil {
		return fmt.Errorf("reading HEAD: %w", err)
	}
	if head.Hash() == w.base {
		return nil
	}
	tip, err := w.remoteTip(ctx)
	if err != nil {
		return err
	}
	if tip != w.base {
		return fmt.Errorf("%w: remote is at %s, expected %s", ErrNonFastForward, shortHash(tip), shortHash(w.base))
	}
	opts := &gogit.PushOptions{
		RemoteName: "origin",
		Auth:       w.access.method,
		CABundle:   w.access.caBundle,
		RefSpecs:   []config.RefSpec{config.RefSpec(w.branch + ":" + w.branch)},
	}
	if !w.base.IsZero() {
		// Checked again against the push's own ref advertisement; then
		// receive-pack updates the ref only if it still holds that value.
		opts.RequireRemoteRefs = []config.RefSpec{config.RefSpec(w.base.String() + ":" + w.branch.String())}
	}
	err = w.repo.PushContext(ctx, opts)
	switch {
	case err == nil, errors.Is(err, gogit.NoErrAlreadyUpToDate):
		w.base = head.Hash()
		return nil
	case isRejected(err):
		return fmt.Errorf("%w: %w", ErrNonFastForward, err)
	}
	return err
}

// isRejected recognises go-git's and git receive-pack's refusals of a ref
// update that is not a fast-forward; they are only available as text.
func isRejected(err error) bool {
	msg := err.Error()
	for _, s := range []string{"non-fast-forward", "required to be", "fetch first", "failed to update ref", "cannot lock ref"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func shortHash(h plumbing.Hash) string {
	if h.IsZero() {
		return "nothing (no branch)"
	}
	return h.String()[:12]
}
