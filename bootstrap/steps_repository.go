package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/capstan-gitops/capstan/components/repo"
	"github.com/capstan-gitops/capstan/internal/git"
)

// checkRepository reads the branch before the cluster is created or
// reached, so that a refusal changes nothing anywhere: the age key must
// open every SOPS-encrypted file below the path, and the .sops.yaml rule of
// a generated key must fit the repository's rules. When the SSH
// credentials are completed from the cluster (stored there, or a new
// deploy key), the repository cannot be read yet: the Git step makes the
// same checks, still before it commits and before anything is installed.
func (r *run) checkRepository(ctx context.Context) (string, error) {
	if r.sshAuthIncomplete() {
		return "checked in the Git step (the ssh credentials are completed from the cluster)", nil
	}
	dir, err := os.MkdirTemp(r.workDir, "check-")
	if err != nil {
		return "", fmt.Errorf("creating clone dir: %w", err)
	}
	defer os.RemoveAll(dir)
	wt, err := git.OpenBranch(ctx, r.ep, r.opts.Auth, r.opts.Branch, dir)
	if err != nil {
		return "", err
	}
	n, err := r.inspect(wt.Dir())
	if err != nil {
		return "", err
	}
	switch n {
	case 0:
		return "no SOPS-encrypted files in " + r.path(), nil
	case 1:
		return "1 SOPS-encrypted file, opened by the age key", nil
	}
	return fmt.Sprintf("%d SOPS-encrypted files, all opened by the age key", n), nil
}

// sshAuthIncomplete says whether the SSH credentials are still to be
// completed from the cluster (resolveSSHAuth).
func (r *run) sshAuthIncomplete() bool {
	return r.ep.Scheme() == "ssh" && (len(r.opts.Auth.Identity) == 0 || len(r.opts.Auth.KnownHosts) == 0)
}

func (r *run) path() string { return path.Clean(r.opts.Path) }

// inspect checks the checkout at root: the age key opens its encrypted
// files, and a generated key's .sops.yaml fits (kept in r.sopsConfig, nil
// when the repository's already encrypts for the key). It returns how many
// encrypted files there are.
func (r *run) inspect(root string) (int, error) {
	generated := r.opts.GenerateAgeKey != ""
	n, err := checkEncrypted(root, r.path(), r.opts.AgeKey, generated)
	if err != nil || !generated {
		return n, err
	}
	existing, err := os.ReadFile(filepath.Join(root, repo.SOPSConfigFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		existing = nil
	case err != nil:
		return 0, fmt.Errorf("reading %s: %w", repo.SOPSConfigFile, err)
	case existing == nil:
		existing = []byte{} // present, and empty
	}
	cfg, changed, err := repo.SOPSConfig(existing, r.path(), r.ageRecipient)
	if err != nil {
		return 0, err
	}
	r.sopsConfig = nil
	if changed {
		r.sopsConfig = cfg
	}
	return n, nil
}
