package controller

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/apply"
	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/git"
	"github.com/capstan-gitops/capstan/internal/postbuild"
	"github.com/capstan-gitops/capstan/internal/source"
	"github.com/capstan-gitops/capstan/internal/substitute"
)

// noteTag records what the fetch saw of tags: the newest semver tag, and
// whether the tag applied last moved to another commit (a force push).
func (run *run) noteTag(checkout source.Checkout) {
	run.sync.Status.NewestTag = checkout.NewestTag
	prev, now := git.Revision(run.sync.Status.LastAppliedRevision), git.Revision(checkout.Revision)
	if checkout.Tag != "" && prev.Name() == checkout.Tag && prev.Hash() != "" && prev.Hash() != now.Hash() {
		run.tagMoved = fmt.Sprintf("tag %s moved from commit %s to %s; following it", checkout.Tag, prev.Hash(), now.Hash())
	}
}

// substitute replaces the variables in the built objects: all of them,
// strictly, with spec.postBuild; without it only the built-in ones, so that
// other "${...}" text in repositories written before keeps its meaning.
func (run *run) substitute(ctx context.Context, old apply.Inventory, checkout source.Checkout) (outcome, bool) {
	vars, err := postbuild.Read(ctx, run.r.Reader, run.sync, checkout.Revision, checkout.Tag)
	if err != nil {
		return fail(old, capstanv1.BuildFailedReason, false, fmt.Errorf("reading the variables of %s: %w", checkout.Revision, err)), true
	}
	run.vars = vars
	objs, err := vars.Substitute(run.objects, run.sources)
	var oe *postbuild.ObjectError
	if errors.As(err, &oe) && oe.Index < len(run.sources) {
		where := locateVariable(checkout.Dir, run.sources[oe.Index], oe.Err)
		return fail(old, capstanv1.BuildFailedReason, true, fmt.Errorf("refusing revision %s: %s: %w", checkout.Revision, where, oe.Err)), true
	}
	if err != nil {
		return fail(old, capstanv1.BuildFailedReason, true, fmt.Errorf("refusing revision %s: %w", checkout.Revision, err)), true
	}
	run.objects = objs
	return outcome{}, false
}

// place puts namespaced objects without a namespace into the target
// namespace (or "default"), refuses objects that name another namespace in
// strict mode, and adds the target Namespace when git does not declare it.
// A target Namespace that already exists and that this Sync did not create
// is used, never adopted: adopted, a later change of target would prune it,
// and with it everything someone else keeps there.
func (run *run) place(ctx context.Context, mgr *apply.Manager, old apply.Inventory) error {
	target := run.sync.Spec.TargetNamespace
	if target == "" {
		return mgr.DefaultNamespaces(run.objects, "default")
	}
	if run.sync.TargetNamespaceModeOrDefault() == capstanv1.TargetNamespaceStrict {
		for i, o := range run.objects {
			if ns := o.GetNamespace(); ns != "" && ns != target {
				return &placementError{where: sourceAt(run.sources, i), ref: apply.RefOf(o).String(), ns: ns, target: target}
			}
		}
	}
	if err := mgr.DefaultNamespaces(run.objects, target); err != nil {
		return err
	}
	ns := postbuild.TargetNamespace(run.sync, run.objects)
	if ns == nil {
		return nil
	}
	if !old.Has(apply.RefOf(ns)) {
		live := &corev1.Namespace{}
		err := run.r.Reader.Get(ctx, client.ObjectKey{Name: ns.GetName()}, live)
		if err == nil {
			return nil
		}
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("reading the target namespace %s: %w", ns.GetName(), err)
		}
	}
	run.objects = append(run.objects, ns)
	if len(run.sources) == len(run.objects)-1 {
		run.sources = append(run.sources, build.Source{File: "spec.targetNamespace"})
	}
	return nil
}

// placementError is an object outside the target namespace, in strict mode.
type placementError struct {
	where, ref, ns, target string
}

func (e *placementError) Error() string {
	return fmt.Sprintf("%s: %s is in namespace %q, not in the target namespace %q; remove its namespace, or set targetNamespaceMode: default to let it keep it", e.where, e.ref, e.ns, e.target)
}

func sourceAt(sources []build.Source, i int) string {
	if i < len(sources) {
		return sources[i].String()
	}
	return "(unknown file)"
}

// Bounds of the search for a variable's line in a checkout.
const (
	maxSearchFiles = 512
	maxSearchBytes = 1 << 20
)

// locateVariable says where the reference err is about is written: the
// file and line of the first "${NAME" at or after the object's line in its
// file, or for objects kustomize built, in the files beside the
// kustomization. Files are read through an os.Root: a checkout is
// untrusted and may hold symlinks out of it.
func locateVariable(dir string, src build.Source, err error) string {
	needle := ""
	var undef *substitute.UndefinedError
	var syn *substitute.SyntaxError
	switch {
	case errors.As(err, &undef):
		needle = "${" + undef.Name
	case errors.As(err, &syn):
		needle = syn.Ref
	}
	root, openErr := os.OpenRoot(dir)
	if needle == "" || openErr != nil {
		return src.String()
	}
	defer root.Close()
	if line := lineOf(root, src.File, needle, max(src.Line, 1)); line > 0 {
		return build.Source{File: src.File, Line: line}.String()
	}
	if src.Line > 0 {
		return src.String()
	}
	found := src.String()
	files := 0
	_ = fs.WalkDir(root.FS(), path.Dir(src.File), func(p string, d fs.DirEntry, err error) error {
		if err != nil || files >= maxSearchFiles {
			return fs.SkipAll
		}
		if d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".json")) {
			return nil
		}
		files++
		if line := lineOf(root, p, needle, 1); line > 0 {
			found = build.Source{File: p, Line: line}.String()
			return fs.SkipAll
		}
		return nil
	})
	return found
}

// lineOf returns the first line at or after from of file that holds needle
// not escaped as "$${", or 0.
func lineOf(root *os.Root, file, needle string, from int) int {
	f, err := root.Open(file)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, maxSearchBytes))
	sc.Buffer(make([]byte, 0, 64<<10), maxSearchBytes)
	for n := 1; sc.Scan(); n++ {
		if n < from {
			continue
		}
		if unescaped(sc.Bytes(), []byte(needle)) {
			return n
		}
	}
	return 0
}

func unescaped(line, needle []byte) bool {
	for i := 0; ; {
		j := bytes.Index(line[i:], needle)
		if j < 0 {
			return false
		}
		at := i + j
		if at == 0 || line[at-1] != '$' {
			return true
		}
		i = at + 1
	}
}
