package git

import (
	"context"
	"errors"
	"fmt"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Resolve returns the revision ref points at on the remote, from one ref
// listing and without fetching objects. Annotated tags resolve to their
// commit. A Commit ref is not looked up (a listing cannot prove a commit
// exists), but the listing still checks that the remote is reachable and
// the credentials work.
func Resolve(ctx context.Context, ep Endpoint, auth Auth, ref Ref) (Revision, error) {
	rev, err := resolve(ctx, ep, auth, ref)
	return rev, wrapErr("resolving "+ref.String()+" of", ep, auth, err)
}

func resolve(ctx context.Context, ep Endpoint, auth Auth, ref Ref) (Revision, error) {
	if err := ref.validate(); err != nil {
		return "", err
	}
	acc, err := auth.access(ctx, ep)
	if err != nil {
		return "", err
	}
	refs, err := listRefs(ctx, ep, acc)
	if err != nil {
		return "", err
	}
	if ref.Commit != "" {
		return NewRevision(ref.name(), ref.Commit), nil
	}
	return findRevision(refs, ref)
}

// listRefs lists the remote's refs with peeled tags appended as "<tag>^{}".
func listRefs(ctx context.Context, ep Endpoint, acc remoteAccess) (map[plumbing.ReferenceName]*plumbing.Reference, error) {
	remote := gogit.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{ep.url}})
	list, err := remote.ListContext(ctx, &gogit.ListOptions{Auth: acc.method, CABundle: acc.caBundle, PeelingOption: gogit.AppendPeeled})
	if err != nil {
		return nil, err
	}
	refs := make(map[plumbing.ReferenceName]*plumbing.Reference, len(list))
	for _, r := range list {
		refs[r.Name()] = r
	}
	return refs, nil
}

// findRevision looks ref up in a listing.
func findRevision(refs map[plumbing.ReferenceName]*plumbing.Reference, ref Ref) (Revision, error) {
	switch {
	case ref.Tag != "":
		name := plumbing.NewTagReferenceName(ref.Tag)
		if peeled, ok := refs[name+"^{}"]; ok {
			return NewRevision(ref.Tag, peeled.Hash().String()), nil
		}
		if r, ok := refs[name]; ok {
			return NewRevision(ref.Tag, r.Hash().String()), nil
		}
	case ref.Branch != "":
		if r, ok := refs[plumbing.NewBranchReferenceName(ref.Branch)]; ok {
			return NewRevision(ref.Branch, r.Hash().String()), nil
		}
	default:
		head, ok := refs[plumbing.HEAD]
		if ok && head.Type() == plumbing.SymbolicReference {
			if target, ok := refs[head.Target()]; ok {
				return NewRevision(head.Target().Short(), target.Hash().String()), nil
			}
		} else if ok {
			return NewRevision("HEAD", head.Hash().String()), nil
		}
	}
	return "", fmt.Errorf("%w: %s", ErrRefNotFound, ref)
}

// Clone fetches ref into dir, which must be empty or not exist, and checks
// it out. Branches and tags are cloned shallow (depth 1) and single-branch,
// without other tags. A Commit is fetched by hash at depth 1 when the server
// allows it (uploadpack.allowReachableSHA1InWant, as GitHub and GitLab do);
// otherwise the whole Branch, or all branches and tags if Branch is empty,
// is fetched and the commit checked out. Clone stops when ctx is done. On
// error dir may hold a partial clone.
func Clone(ctx context.Context, ep Endpoint, auth Auth, ref Ref, dir string) (Revision, error) {
	rev, err := clone(ctx, ep, auth, ref, dir)
	return rev, wrapErr("cloning "+ref.String()+" of", ep, auth, err)
}

func clone(ctx context.Context, ep Endpoint, auth Auth, ref Ref, dir string) (Revision, error) {
	if err := ref.validate(); err != nil {
		return "", err
	}
	acc, err := auth.access(ctx, ep)
	if err != nil {
		return "", err
	}
	if ref.Commit != "" {
		return cloneCommit(ctx, ep, acc, ref, dir)
	}
	repo, err := gogit.PlainCloneContext(ctx, dir, false, &gogit.CloneOptions{
		URL:           ep.url,
		Auth:          acc.method,
		CABundle:      acc.caBundle,
		ReferenceName: ref.referenceName(),
		SingleBranch:  true,
		Depth:         1,
		Tags:          gogit.NoTags,
	})
	if err != nil {
		return "", err
	}
	head, err := repo.Head()
	if err != nil {
		return "", fmt.Errorf("reading HEAD of the clone: %w", err)
	}
	name := ref.name()
	if name == "" {
		name = head.Name().Short()
	}
	return NewRevision(name, head.Hash().String()), nil
}

// cloneCommit initialises dir, fetches the commit and checks it out.
func cloneCommit(ctx context.Context, ep Endpoint, acc remoteAccess, ref Ref, dir string) (Revision, error) {
	repo, err := gogit.PlainInit(dir, false)
	if err != nil {
		return "", fmt.Errorf("initialising %s: %w", dir, err)
	}
	remote, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{ep.url}})
	if err != nil {
		return "", fmt.Errorf("adding remote: %w", err)
	}
	err = remote.FetchContext(ctx, &gogit.FetchOptions{
		Auth:     acc.method,
		CABundle: acc.caBundle,
		Depth:    1,
		Tags:     gogit.NoTags,
		RefSpecs: []config.RefSpec{config.RefSpec(ref.Commit + ":refs/capstan/commit")},
	})
	if errors.Is(err, gogit.ErrExactSHA1NotSupported) {
		err = remote.FetchContext(ctx, &gogit.FetchOptions{
			Auth: acc.method, CABundle: acc.caBundle, Tags: gogit.NoTags, RefSpecs: fallbackRefSpecs(ref),
		})
	}
	if err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return "", err
	}
	hash := plumbing.NewHash(ref.Commit)
	if _, err := repo.CommitObject(hash); err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrRefNotFound, ref, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return "", fmt.Errorf("opening worktree: %w", err)
	}
	if err := wt.Checkout(&gogit.CheckoutOptions{Hash: hash, Force: true}); err != nil {
		return "", fmt.Errorf("checking out %s: %w", ref.Commit, err)
	}
	return NewRevision(ref.name(), ref.Commit), nil
}

// fallbackRefSpecs fetch what may contain a commit when the server does not
// serve commits by hash.
func fallbackRefSpecs(ref Ref) []config.RefSpec {
	if ref.Branch != "" {
		return []config.RefSpec{config.RefSpec(fmt.Sprintf("+refs/heads/%[1]s:refs/remotes/origin/%[1]s", ref.Branch))}
	}
	return []config.RefSpec{"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"}
}
