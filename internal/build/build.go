package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"filippo.io/age"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/capstan-gitops/capstan/internal/helm"
)

// Build returns the Kubernetes objects defined by the directory dir (a
// slash path relative to root; "" and "." are root itself) of the checkout
// at root, within limits (zero fields take their defaults).
//
// If dir holds a kustomization file (kustomization.yaml, kustomization.yml
// or Kustomization), kustomize builds it on an in-memory copy of the
// directories its kustomizations use; otherwise every *.yaml, *.yml and
// *.json file below dir is decoded, hidden files and directories skipped.
// dir and every symlink followed must stay inside root and out of .git.
//
// Objects are sorted by group, kind, namespace and name; two objects with
// the same four are an error. An empty directory gives an empty slice and
// no error. Failures caused by the revision's content are [*Error] values,
// or [*MissingFileError] for an entry of a kustomization naming a file the
// revision lacks (see [IsTerminal]); a done ctx or an unreadable root are
// not. A dir that does not exist is an [*Error] wrapping [ErrPathNotFound].
func Build(ctx context.Context, root, dir string, limits Limits) ([]*unstructured.Unstructured, error) {
	objs, _, err := BuildSources(ctx, root, dir, limits)
	return objs, err
}

// BuildSources is [Build] that also returns where each object is defined:
// sources[i] is the file and line of objs[i], so that a failure to apply
// an object can name the file to fix.
func BuildSources(ctx context.Context, root, dir string, limits Limits) (objs []*unstructured.Unstructured, sources []Source, err error) {
	return BuildWith(ctx, root, dir, Options{Limits: limits})
}

// Options are the limits of a build and the identities that open the
// SOPS-encrypted files of the revision.
type Options struct {
	// Limits bound what the build reads (zero fields take defaults).
	Limits Limits
	// Identities open SOPS-encrypted files: YAML and JSON manifests with
	// a top-level sops block, and files a kustomization reads (resources,
	// secretGenerator files and envs). Without any, an encrypted file is
	// an [*Error] wrapping sops.ErrNoIdentities: it is never built as
	// ciphertext.
	Identities []age.Identity
	// Capabilities, when set, returns the capabilities of the cluster
	// the objects are for. A helmCharts entry that names no kubeVersion
	// (or no apiVersions) is then rendered with the cluster's version
	// (or served API versions), as `helm install` would render it;
	// without it, charts see Helm's defaults, as with `helm template`.
	// It is called at most once per build, and only by a build that
	// renders a chart; its error fails the build without being an
	// [*Error] (retrying may succeed).
	Capabilities func(context.Context) (*helm.Capabilities, error)
}

// BuildWith is [BuildSources] with decryption. Failures to decrypt are
// [*Error] values wrapping a *sops.Error; plaintext only ever exists in
// memory.
func BuildWith(ctx context.Context, root, dir string, opts Options) (objs []*unstructured.Unstructured, sources []Source, err error) {
	items, err := buildItems(ctx, root, dir, opts)
	if err != nil {
		return nil, nil, err
	}
	objs, sources = split(items)
	return objs, sources, nil
}

func buildItems(ctx context.Context, root, dir string, opts Options) ([]item, error) {
	if err := interrupted(ctx); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("opening checkout %s: %w", root, err)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, fmt.Errorf("opening checkout %s: %w", root, err)
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("opening checkout %s: %w", root, err)
	}
	defer r.Close()
	real, err := confine(r, dir)
	if err != nil {
		return nil, pathNotFound(err)
	}
	fi, err := r.Lstat(real)
	if err != nil {
		return nil, pathNotFound(statError(dir, err))
	}
	if !fi.IsDir() {
		return nil, errorf(dir, 0, "not a directory")
	}
	b := &budget{limits: opts.Limits.withDefaults(), ids: opts.Identities, caps: opts.Capabilities}
	isKustomize, err := hasKustomization(r, real)
	if err != nil {
		return nil, err
	}
	if isKustomize {
		return buildKustomize(ctx, r, real, b)
	}
	return buildPlain(ctx, r, real, b)
}

// hasKustomization reports whether dir holds a kustomization file (or a
// symlink named like one).
func hasKustomization(r *os.Root, dir string) (bool, error) {
	for _, n := range kustomizationNames() {
		_, err := r.Lstat(path.Join(dir, n))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return false, statError(path.Join(dir, n), err)
		}
	}
	return false, nil
}
