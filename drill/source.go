package drill

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/capstan-gitops/capstan/components/repo"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/git"
)

// source is the repository as the drill read it from its clone.
type source struct {
	dir      string
	revision git.Revision
	// path is the cluster's directory (given, or the only bootstrapped one).
	path string
	// components are installed into the throwaway cluster; fromGit says
	// whether they are <path>/capstan-system or this CLI's own.
	components []*unstructured.Unstructured
	fromGit    bool
	// syncs are the Syncs git declares, reachable from the components.
	syncs []staticSync
	// files says which files declare each object, for the report.
	files map[objectID][]string
	// sealed are the SOPS-encrypted files under the Syncs' paths.
	sealed []sealedFile
}

// ErrPathNotFound means --path is not a directory of the repository.
var ErrPathNotFound = errors.New("path not found in the repository")

// clone checks out the branch into dir and finds the cluster's path.
func clone(ctx context.Context, opts Options, ep git.Endpoint, dir string) (*source, error) {
	rev, err := git.Clone(ctx, ep, opts.Auth, git.Ref{Branch: opts.Branch}, dir)
	if err != nil {
		return nil, err
	}
	src := &source{dir: dir, revision: rev, path: opts.Path}
	if src.path == "" {
		if src.path, err = onlyBootstrapped(dir); err != nil {
			return nil, err
		}
	}
	src.path = path.Clean(src.path)
	if err := checkPath(dir, src.path, rev); err != nil {
		return nil, err
	}
	return src, nil
}

// onlyBootstrapped returns the one directory holding capstan-system/sync.yaml.
func onlyBootstrapped(root string) (string, error) {
	found := bootstrapped(root)
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", errors.New("the repository has no bootstrapped cluster (<path>/capstan-system/sync.yaml): pass --path, the directory of the cluster to rebuild")
	}
	return "", fmt.Errorf("the repository holds several clusters (%s): pass --path to choose one", strings.Join(found, ", "))
}

// bootstrapped lists the directories that hold capstan-system/sync.yaml.
func bootstrapped(root string) []string {
	var found []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if strings.HasPrefix(d.Name(), ".") && rel != "." || strings.Count(rel, string(filepath.Separator)) > 6 {
			return fs.SkipDir
		}
		if d.Name() == repo.DirName && fileExists(filepath.Join(p, repo.SyncFile)) {
			found = append(found, filepath.ToSlash(filepath.Dir(rel)))
			return fs.SkipDir
		}
		return nil
	})
	sort.Strings(found)
	return found
}

// checkPath fails with the directories that do exist when p is not a
// directory of the checkout.
func checkPath(root, p string, rev git.Revision) error {
	if p == "" || p == "." || strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("--path must be a directory inside the repository, such as clusters/dwk")
	}
	if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err == nil && fi.IsDir() {
		return nil
	}
	msg := fmt.Sprintf("%q is not a directory of the repository at %s", p, rev)
	if near := nearby(root, p); len(near) > 0 {
		msg += "; it has " + strings.Join(near, ", ")
	}
	return fmt.Errorf("%w: %s", ErrPathNotFound, msg)
}

// nearby lists the subdirectories of the deepest existing parent of p, and
// the bootstrapped clusters, to suggest what was meant.
func nearby(root, p string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, b := range bootstrapped(root) {
		add(b)
	}
	parent := path.Dir(p)
	for parent != "." && !dirExists(filepath.Join(root, filepath.FromSlash(parent))) {
		parent = path.Dir(parent)
	}
	entries, _ := os.ReadDir(filepath.Join(root, filepath.FromSlash(parent)))
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && len(out) < 10 {
			add(path.Join(parent, e.Name()))
		}
	}
	return out
}

// loadComponents reads <path>/capstan-system, or renders this CLI's
// components and a root Sync for the repository when it has none.
func (src *source) loadComponents(ctx context.Context, opts Options) error {
	dir := path.Join(src.path, repo.DirName)
	if dirExists(filepath.Join(src.dir, filepath.FromSlash(dir))) {
		objs, err := build.Build(ctx, src.dir, dir, build.DefaultLimits())
		if err != nil {
			return fmt.Errorf("building the components committed in %s: %w", dir, err)
		}
		src.components, src.fromGit = objs, true
		return nil
	}
	settings, _ := repo.Resolve(repo.Flags{}, nil, opts.CLIVersion)
	files, err := repo.RenderFiles(repo.Input{URL: opts.URL, Branch: opts.Branch, Path: src.path, HasCredentials: !opts.Auth.IsZero(), HasDecryption: len(opts.AgeKey) > 0, Settings: settings})
	if err != nil {
		return err
	}
	for _, f := range []string{repo.ComponentsFile, repo.SyncFile, repo.SettingsFile} {
		objs, err := build.Decode(f, files[path.Join(dir, f)])
		if err != nil {
			return fmt.Errorf("reading this CLI's components: %w", err)
		}
		src.components = append(src.components, objs...)
	}
	return nil
}

// componentsVersion returns the controller version the components name.
func componentsVersion(objs []*unstructured.Unstructured) string {
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetName() == repo.SettingsName {
			if v, _, _ := unstructured.NestedString(o.Object, "data", "version"); v != "" {
				return v
			}
		}
	}
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			if v := o.GetLabels()["app.kubernetes.io/version"]; v != "" {
				return v
			}
		}
	}
	return "unknown"
}

// syncOf reads a Sync object.
func syncOf(o *unstructured.Unstructured) (*capstanv1.Sync, bool) {
	gvk := o.GroupVersionKind()
	if gvk.Group != capstanv1.Group || gvk.Kind != capstanv1.SyncKind {
		return nil, false
	}
	s := &capstanv1.Sync{}
	if err := fromUnstructured(o, s); err != nil {
		return nil, false
	}
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	return s, true
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
