// Package diff shows what the controller would do if it applied a revision
// now: it builds a directory exactly as the controller does, dry-runs every
// object with server-side apply against the cluster, and reports what would
// be created, changed (with a unified diff of the live object against the
// result, Secret data masked) and pruned.
package diff

import (
	"context"
	"errors"
	"fmt"
	"os"

	"filippo.io/age"

	"github.com/fluxcd/pkg/ssa"
	ssaerrors "github.com/fluxcd/pkg/ssa/errors"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/day2/syncs"
	"github.com/capstan-gitops/capstan/internal/apply"
	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/git"
	"github.com/capstan-gitops/capstan/internal/helm"
	"github.com/capstan-gitops/capstan/internal/postbuild"
	"github.com/capstan-gitops/capstan/internal/source"
)

// Options say what to compare with the cluster.
type Options struct {
	// Sync is the Sync whose objects these are: its labels mark them, its
	// inventory decides what would be pruned.
	Sync client.ObjectKey
	// Path is a local directory to build; empty builds the Sync's source at
	// the revision its ref points at now.
	Path string
	// Limits bound the build (zero fields: the controller's defaults).
	Limits build.Limits
	// Identities decrypt SOPS-encrypted files as the controller would;
	// without them an encrypted file fails the diff.
	Identities []age.Identity
	// Capabilities are the cluster's, for charts whose helmCharts entry
	// names no kubeVersion or apiVersions, as the controller renders them
	// (see [helm.DiscoverOnce]); nil renders them with Helm's defaults.
	Capabilities func(context.Context) (*helm.Capabilities, error)
	// Fetcher checks the Sync's source out when Path is empty; nil clones
	// it, as the controller does, into a temporary directory.
	Fetcher Fetcher
}

// Fetcher checks out the revision a Sync's ref points at now.
type Fetcher interface {
	Fetch(ctx context.Context, s *capstanv1.Sync) (source.Checkout, error)
}

// Run builds the objects opts select and compares them with the cluster.
// Nothing is written: every apply is a server-side dry run.
func Run(ctx context.Context, c client.Client, opts Options) (Report, error) {
	sync, err := syncs.Get(ctx, c, opts.Sync)
	if err != nil {
		return Report{}, err
	}
	if opts.Path == "" && opts.Fetcher == nil {
		dir, err := os.MkdirTemp("", "capstan-diff-")
		if err != nil {
			return Report{}, fmt.Errorf("creating work dir: %w", err)
		}
		defer os.RemoveAll(dir)
		if opts.Fetcher, err = source.NewGitFetcher(c, dir); err != nil {
			return Report{}, err
		}
	}
	b, err := buildObjects(ctx, opts.Fetcher, sync, opts)
	if err != nil {
		return Report{}, err
	}
	objs, vars, err := substituted(ctx, c, sync, b)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Sync: opts.Sync.String(), Source: b.source, Changes: []Change{}}
	mgr := apply.NewManager(c, owner(sync))
	if err := mgr.DefaultNamespaces(objs, namespaceOf(sync)); err != nil {
		return Report{}, err
	}
	if ns := postbuild.TargetNamespace(sync, objs); ns != nil {
		objs = append(objs, ns)
	}
	setLabels(objs, owner(sync).Labels)
	if err := compare(ctx, c, objs, &rep); err != nil {
		return Report{}, errors.New(vars.MaskText(err.Error()))
	}
	for i := range rep.Changes {
		rep.Changes[i].Diff = vars.MaskText(rep.Changes[i].Diff)
	}
	if sync.PruneEnabled() {
		pruned, err := prunable(ctx, c, sync, apply.Refs(objs))
		if err != nil {
			return Report{}, err
		}
		for _, r := range pruned {
			rep.Changes = append(rep.Changes, Change{Object: r.String(), Ref: r, Action: Pruned})
		}
	}
	rep.sort()
	return rep, nil
}

// built is what buildObjects returns: the objects, where each is defined,
// the source (a directory or a revision) and the tag checked out.
type built struct {
	objs    []*unstructured.Unstructured
	sources []build.Source
	source  string
	tag     string
}

// buildObjects builds the local directory, or the Sync's current revision.
func buildObjects(ctx context.Context, fetcher Fetcher, s *capstanv1.Sync, opts Options) (built, error) {
	bopts := build.Options{Limits: opts.Limits, Identities: opts.Identities, Capabilities: opts.Capabilities}
	if opts.Path != "" {
		root, dir, err := locate(opts.Path)
		if err != nil {
			return built{}, err
		}
		objs, sources, err := build.BuildWith(ctx, root, dir, bopts)
		if err != nil {
			return built{}, fmt.Errorf("building %s: %w", opts.Path, err)
		}
		return built{objs: objs, sources: sources, source: opts.Path}, nil
	}
	checkout, err := fetcher.Fetch(ctx, s)
	if err != nil {
		return built{}, fmt.Errorf("fetching the source of sync %s/%s: %w", s.Namespace, s.Name, err)
	}
	objs, sources, err := build.BuildWith(ctx, checkout.Dir, s.Spec.Path, bopts)
	if errors.Is(err, build.ErrPathNotFound) {
		return built{}, fmt.Errorf("path %q does not exist at %s", s.Spec.Path, checkout.Revision)
	}
	if err != nil {
		return built{}, fmt.Errorf("building %s at %s: %w", s.Spec.Path, checkout.Revision, err)
	}
	return built{objs: objs, sources: sources, source: checkout.Revision, tag: checkout.Tag}, nil
}

// substituted applies the Sync's variables as the controller does, reading
// its ConfigMaps and Secrets from the cluster. A local directory gets the
// built-in variables of the last applied revision.
func substituted(ctx context.Context, c client.Reader, s *capstanv1.Sync, b built) ([]*unstructured.Unstructured, postbuild.Variables, error) {
	revision, tag := b.source, b.tag
	if git.Revision(revision).Hash() == "" {
		revision = s.Status.LastAppliedRevision
	}
	if tag == "" && (s.Ref().Tag != "" || s.Ref().Semver != "") {
		tag = git.Revision(revision).Name()
	}
	vars, err := postbuild.Read(ctx, c, s, revision, tag)
	if err != nil {
		return nil, postbuild.Variables{}, err
	}
	out, err := vars.Substitute(b.objs, b.sources)
	if err != nil {
		return nil, postbuild.Variables{}, fmt.Errorf("substituting the variables of sync %s/%s: %w", s.Namespace, s.Name, err)
	}
	return out, vars, nil
}

// namespaceOf is where objects without a namespace go.
func namespaceOf(s *capstanv1.Sync) string {
	if s.Spec.TargetNamespace != "" {
		return s.Spec.TargetNamespace
	}
	return "default"
}

// owner is how the controller marks the Sync's objects.
func owner(s *capstanv1.Sync) apply.Owner {
	return apply.Owner{FieldManager: capstanv1.FieldManager, Labels: map[string]string{
		capstanv1.SyncNameLabel:      s.Name,
		capstanv1.SyncNamespaceLabel: s.Namespace,
	}}
}

func setLabels(objs []*unstructured.Unstructured, labels map[string]string) {
	for _, o := range objs {
		l := o.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		for k, v := range labels {
			l[k] = v
		}
		o.SetLabels(l)
	}
}

// compare dry-runs each object. An object that cannot be dry-run because
// its namespace or its CRD is created by the same set would be created.
func compare(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, rep *Report) error {
	rm := ssa.NewResourceManager(c, nil, ssa.Owner{Field: capstanv1.FieldManager, Group: capstanv1.GroupVersion.Group})
	for _, o := range objs {
		ref := apply.RefOf(o)
		entry, live, merged, err := rm.Diff(ctx, o, ssa.DefaultDiffOptions())
		if err != nil {
			if !dependsOnNew(err, o, objs) {
				return fmt.Errorf("dry-run of %s: %w", ref, unwrapDryRun(err))
			}
			rep.Changes = append(rep.Changes, Change{Object: ref.String(), Ref: ref, Action: Created})
			continue
		}
		switch entry.Action {
		case ssa.CreatedAction:
			rep.Changes = append(rep.Changes, Change{Object: ref.String(), Ref: ref, Action: Created})
		case ssa.ConfiguredAction:
			text, err := unified(ref.String(), live, merged)
			if err != nil {
				return err
			}
			rep.Changes = append(rep.Changes, Change{Object: ref.String(), Ref: ref, Action: Changed, Diff: text})
		default:
			rep.Unchanged++
		}
	}
	return nil
}

// dependsOnNew reports whether a failed dry-run failed only because the
// object's namespace or CRD is itself in objs and not yet in the cluster.
func dependsOnNew(err error, o *unstructured.Unstructured, objs []*unstructured.Unstructured) bool {
	err = unwrapDryRun(err)
	gvk := o.GroupVersionKind()
	for _, other := range objs {
		switch {
		case apierrors.IsNotFound(err) && other.GetKind() == "Namespace" && other.GetAPIVersion() == "v1" && other.GetName() == o.GetNamespace():
			return true
		case apimeta.IsNoMatchError(err) && other.GetKind() == "CustomResourceDefinition":
			group, _, _ := unstructured.NestedString(other.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(other.Object, "spec", "names", "kind")
			if group == gvk.Group && kind == gvk.Kind {
				return true
			}
		}
	}
	return false
}

func unwrapDryRun(err error) error {
	var dr *ssaerrors.DryRunErr
	if errors.As(err, &dr) {
		return dr.Unwrap()
	}
	return err
}
