// Package source gets the revisions Syncs point at onto local disk: it
// resolves a Sync's ref, clones only revisions it has not checked out
// before, and keeps a few recent checkouts of each repository.
package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/git"
)

// ErrAuth marks fetch failures caused by credentials (a missing Secret, a
// refused password or key, a host key mismatch).
var ErrAuth = errors.New("authentication failed")

// Checkout is a revision of a repository on local disk. Its directory is
// shared by every Sync on the same repository and revision, and never
// changes once created.
type Checkout struct {
	Dir      string
	Revision string
	// Tag is the tag checked out for a tag or semver ref, else "".
	Tag string
	// NewestTag is, for a semver ref, the newest semver tag of the
	// repository, in the range or not.
	NewestTag string
}

// GitFetcher resolves refs with a remote listing and clones only revisions
// it has not checked out before.
type GitFetcher struct {
	reader client.Reader
	root   string

	mu    sync.Mutex
	locks map[string]*sync.Mutex
	used  map[string]time.Time
}

// keepPerRepo is how many revisions of one repository stay on disk.
const keepPerRepo = 3

// NewGitFetcher returns a fetcher that keeps checkouts under root.
func NewGitFetcher(reader client.Reader, root string) (*GitFetcher, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("creating work dir: %w", err)
	}
	return &GitFetcher{reader: reader, root: root, locks: map[string]*sync.Mutex{}, used: map[string]time.Time{}}, nil
}

// Fetch returns the checkout of the revision sync's ref points at now.
func (f *GitFetcher) Fetch(ctx context.Context, s *capstanv1.Sync) (Checkout, error) {
	ep, err := git.ParseURL(s.Spec.URL, s.Spec.Insecure)
	if err != nil {
		return Checkout{}, err
	}
	auth, err := f.auth(ctx, s)
	if err != nil {
		return Checkout{}, err
	}
	ref, rev, newest, err := resolve(ctx, ep, auth, s.Ref())
	if err != nil {
		return Checkout{NewestTag: newest}, classify(err)
	}
	repoDir := filepath.Join(f.root, repoKey(s.Spec.URL))
	c, ok := f.cached(repoDir, rev)
	if !ok {
		if c, err = f.clone(ctx, ep, auth, ref, repoDir); err != nil {
			return Checkout{NewestTag: newest}, err
		}
	}
	c.Tag, c.NewestTag = ref.Tag, newest
	return c, nil
}

// resolve finds the revision r points at with one remote listing: for a
// semver range, the newest tag in it. It returns the ref to clone, the
// revision, and for a semver range the newest semver tag seen.
func resolve(ctx context.Context, ep git.Endpoint, auth git.Auth, r capstanv1.GitRef) (git.Ref, git.Revision, string, error) {
	if r.Semver == "" {
		ref := toGitRef(r)
		rev, err := git.Resolve(ctx, ep, auth, ref)
		return ref, rev, "", err
	}
	tags, err := git.ListTags(ctx, ep, auth)
	if err != nil {
		return git.Ref{}, "", "", err
	}
	tag, newest, err := pickTag(tags, r.Semver)
	if err != nil {
		return git.Ref{}, "", newest, err
	}
	return git.Ref{Tag: tag.Name}, git.NewRevision(tag.Name, tag.Commit), newest, nil
}

// Resolve returns the revision sync's ref points at now, with one remote
// listing and no clone.
func (f *GitFetcher) Resolve(ctx context.Context, s *capstanv1.Sync) (string, error) {
	ep, err := git.ParseURL(s.Spec.URL, s.Spec.Insecure)
	if err != nil {
		return "", err
	}
	auth, err := f.auth(ctx, s)
	if err != nil {
		return "", err
	}
	rev, err := git.Resolve(ctx, ep, auth, toGitRef(s.Ref()))
	if err != nil {
		return "", classify(err)
	}
	return string(rev), nil
}

// cached returns the checkout of rev if it is on disk.
func (f *GitFetcher) cached(repoDir string, rev git.Revision) (Checkout, bool) {
	dir := filepath.Join(repoDir, rev.Hash())
	if _, err := os.Stat(dir); err != nil {
		return Checkout{}, false
	}
	f.touch(dir)
	return Checkout{Dir: dir, Revision: string(rev)}, true
}

// clone checks ref out shallow into a fresh directory and renames it into
// place under its commit hash, so that a half-written checkout is never seen.
// If the branch moved since it was resolved, the newer commit is used.
func (f *GitFetcher) clone(ctx context.Context, ep git.Endpoint, auth git.Auth, ref git.Ref, repoDir string) (Checkout, error) {
	if err := os.MkdirAll(repoDir, 0o700); err != nil {
		return Checkout{}, fmt.Errorf("creating checkout dir: %w", err)
	}
	tmp, err := os.MkdirTemp(repoDir, ".clone-")
	if err != nil {
		return Checkout{}, fmt.Errorf("creating checkout dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	got, err := git.Clone(ctx, ep, auth, ref, tmp)
	if err != nil {
		return Checkout{}, classify(err)
	}
	dir := filepath.Join(repoDir, got.Hash())
	lock := f.lock(dir)
	lock.Lock()
	defer lock.Unlock()
	if _, err := os.Stat(dir); err != nil {
		if err := os.Rename(tmp, dir); err != nil {
			return Checkout{}, fmt.Errorf("storing checkout: %w", err)
		}
	}
	f.touch(dir)
	f.collect(repoDir)
	return Checkout{Dir: dir, Revision: string(got)}, nil
}

func (f *GitFetcher) auth(ctx context.Context, s *capstanv1.Sync) (git.Auth, error) {
	if s.Spec.SecretRef == nil {
		return git.Auth{}, nil
	}
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: s.Namespace, Name: s.Spec.SecretRef.Name}
	if err := f.reader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return git.Auth{}, fmt.Errorf("%w: secret %s not found", ErrAuth, key)
		}
		return git.Auth{}, fmt.Errorf("reading secret %s: %w", key, err)
	}
	auth, err := git.AuthFromSecretData(secret.Data)
	if err != nil {
		return git.Auth{}, fmt.Errorf("%w: secret %s: %w", ErrAuth, key, err)
	}
	return auth, nil
}

// classify marks credential failures so that the status reason says so. A
// server certificate that does not verify counts: like an SSH host key
// mismatch, it is fixed with the Secret (ca.crt) or on the server.
func classify(err error) error {
	if errors.Is(err, git.ErrAuthFailed) || errors.Is(err, git.ErrHostKeyMismatch) || errors.Is(err, git.ErrInvalidAuth) ||
		errors.Is(err, git.ErrTLS) {
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	return err
}

func toGitRef(r capstanv1.GitRef) git.Ref {
	return git.Ref{Branch: r.Branch, Tag: r.Tag, Commit: r.Commit}
}

func (f *GitFetcher) lock(dir string) *sync.Mutex {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.locks[dir]
	if !ok {
		l = &sync.Mutex{}
		f.locks[dir] = l
	}
	return l
}

func (f *GitFetcher) touch(dir string) {
	f.mu.Lock()
	f.used[dir] = time.Now()
	f.mu.Unlock()
}

// collect removes all but the most recently used checkouts of a repository.
// A removed checkout that a Sync still needs is simply cloned again.
func (f *GitFetcher) collect(repoDir string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var dirs []string
	for d := range f.used {
		if filepath.Dir(d) == repoDir {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) <= keepPerRepo {
		return
	}
	sort.Slice(dirs, func(i, j int) bool { return f.used[dirs[i]].After(f.used[dirs[j]]) })
	for _, d := range dirs[keepPerRepo:] {
		if l, ok := f.locks[d]; ok && l.TryLock() {
			_ = os.RemoveAll(d)
			delete(f.used, d)
			delete(f.locks, d)
			l.Unlock()
		}
	}
}

// repoKey names a repository's directory without putting its URL (which may
// hold a user name) on disk.
func repoKey(url string) string {
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:8])
}

// SameRepo reports whether two checkout directories hold the same repository.
func SameRepo(a, b string) bool {
	return filepath.Dir(a) == filepath.Dir(b)
}
