package git

import (
	"errors"
	"fmt"

	gogit "github.com/go-git/go-git/v5"
)

// ErrNoOrigin means a local repository has no origin remote to sync from.
var ErrNoOrigin = errors.New("the repository has no origin remote")

// OriginURL returns the URL of the origin remote of the local repository
// at dir (its work tree or any directory below it), so that a person can
// name their clone instead of typing its URL. The cluster syncs from that
// URL: it cannot read a path on this machine.
func OriginURL(dir string) (string, error) {
	repo, err := gogit.PlainOpenWithOptions(dir, &gogit.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return "", fmt.Errorf("opening the git repository at %s: %w", dir, err)
	}
	remote, err := repo.Remote("origin")
	if err != nil || len(remote.Config().URLs) == 0 {
		return "", fmt.Errorf("%s: %w: add one with `git remote add origin URL`", dir, ErrNoOrigin)
	}
	return remote.Config().URLs[0], nil
}
