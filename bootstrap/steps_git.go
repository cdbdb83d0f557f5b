package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/capstan-gitops/capstan/internal/redact"

	"github.com/capstan-gitops/capstan/components/repo"

	"github.com/capstan-gitops/capstan/internal/git"
)

// pushAttempts bounds how often the git step starts over after a rejected
// (non-fast-forward) push.
const pushAttempts = 3

// preflight completes SSH credentials and checks the repository: reachable
// with the credentials, and pushable. An empty repository or a missing
// branch is fine.
func (r *run) preflight(ctx context.Context) (string, error) {
	if err := r.resolveSSHAuth(ctx); err != nil {
		return "", err
	}
	_, err := git.Resolve(ctx, r.ep, r.opts.Auth, git.Ref{Branch: r.opts.Branch})
	if err != nil && !errors.Is(err, git.ErrRefNotFound) {
		return "", r.explainAuth(err)
	}
	if err := git.CheckPush(ctx, r.ep, r.opts.Auth); err != nil {
		return "", r.explainAuth(err)
	}
	return "repository reachable and pushable", nil
}

// commitAndPush writes the rendered files into the branch, commits only if
// something changed, and pushes; a push rejected because the branch moved
// clones again and redoes the step.
func (r *run) commitAndPush(ctx context.Context) (string, error) {
	for attempt := 1; ; attempt++ {
		note, err := r.commitOnce(ctx)
		if errors.Is(err, git.ErrNonFastForward) && attempt < pushAttempts {
			continue
		}
		if err == nil && attempt > 1 {
			note += " (redone after a concurrent push)"
		}
		return note, err
	}
}

func (r *run) commitOnce(ctx context.Context) (string, error) {
	if err := r.checkout(ctx); err != nil {
		return "", err
	}
	if err := r.wt.WriteFiles(ctx, r.files); err != nil {
		return "", err
	}
	sha, changed, err := r.wt.CommitIfChanged(ctx, r.opts.Author, "capstan: bootstrap "+r.opts.Path+" ("+r.in.Settings.Version+")")
	if err != nil {
		return "", err
	}
	r.revision = string(git.NewRevision(r.opts.Branch, sha))
	if !changed {
		return "unchanged at " + short(sha), nil
	}
	if err := r.wt.Push(ctx); err != nil {
		return "", err
	}
	return "pushed " + short(sha), nil
}

// checkout clones the branch into a fresh directory, reads the stored
// settings and renders the files to write.
func (r *run) checkout(ctx context.Context) error {
	dir, err := os.MkdirTemp(r.workDir, "repo-")
	if err != nil {
		return fmt.Errorf("creating clone dir: %w", err)
	}
	wt, err := git.OpenBranch(ctx, r.ep, r.opts.Auth, r.opts.Branch, dir)
	if err != nil {
		return err
	}
	r.wt = wt
	r.in = repo.Input{URL: r.opts.URL, Branch: r.opts.Branch, Path: path.Clean(r.opts.Path), HasCredentials: !r.opts.Auth.IsZero(), HasDecryption: len(r.opts.AgeKey) > 0}
	if _, err := r.inspect(r.wt.Dir()); err != nil {
		return err
	}
	stored, err := r.storedSettings()
	if err != nil {
		return err
	}
	r.in.Settings, _ = repo.Resolve(r.opts.Flags, stored, r.opts.CLIVersion)
	files, err := repo.RenderFiles(r.in)
	if err != nil {
		return err
	}
	kust := path.Join(r.in.Dir(), repo.KustomizationFile)
	if exists(r.wt.Dir(), kust) {
		delete(files, kust) // the user's kustomization (and patches) stay
	}
	if r.sopsConfig != nil {
		files[repo.SOPSConfigFile] = r.sopsConfig
	}
	r.files = files
	return nil
}

func (r *run) storedSettings() (*repo.Settings, error) {
	data, err := os.ReadFile(filepath.Join(r.wt.Dir(), filepath.FromSlash(path.Join(r.in.Dir(), repo.SettingsFile))))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading stored settings: %w", err)
	}
	return repo.ParseSettings(data)
}

func exists(root, slashPath string) bool {
	_, err := os.Stat(filepath.Join(root, filepath.FromSlash(slashPath)))
	return err == nil
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// dryRun prints the plan and the files bootstrap would write, and changes
// nothing: it clones to read the stored settings, and neither commits,
// pushes nor touches a cluster.
func (r *run) dryRun(ctx context.Context) error {
	if err := r.checkout(ctx); err != nil {
		return err
	}
	w := r.deps.Out
	fmt.Fprintf(w, "Plan for %s (branch %s, path %s):\n", redact.URL(r.opts.URL), r.opts.Branch, r.in.Path)
	for i, name := range r.plan().Names() {
		fmt.Fprintf(w, "  %d. %s\n", i+1, name)
	}
	names := make([]string, 0, len(r.files))
	for name := range r.files {
		names = append(names, name)
	}
	sort.Strings(names)
	if r.opts.GenerateAgeKey != "" {
		fmt.Fprintf(w, "\nAge key (dry run: not written to %s): %s\n", r.opts.GenerateAgeKey, r.ageRecipient)
	}
	fmt.Fprintf(w, "\nFiles (dry run: nothing is committed, pushed or applied):\n")
	for _, name := range names {
		fmt.Fprintf(w, "\n==> %s\n%s", name, r.files[name])
	}
	return nil
}
