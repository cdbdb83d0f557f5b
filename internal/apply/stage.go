package apply

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	ssaerrors "github.com/fluxcd/pkg/ssa/errors"
	"github.com/fluxcd/pkg/ssa/normalize"
	"github.com/fluxcd/pkg/ssa/utils"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// check is one object of a stage on its way through dry run and apply.
type check struct {
	obj    *unstructured.Unstructured
	ref    Ref
	digest [sha256.Size]byte
	// liveRV is the object's resourceVersion in the owner's labelled list;
	// listed says that list was read, so an empty liveRV means the object
	// does not exist or does not carry the owner's labels.
	liveRV string
	listed bool

	action  Action
	drifted bool
	err     error
}

// applyStage dry-runs every object of one stage, and only when all of them
// pass, applies those that would change, concurrently. Objects that the
// Manager's Memory vouches for (same desired object, same resourceVersion
// as when last verified) are neither dry-run nor applied. It returns the
// changes of the objects that were checked or applied successfully.
func (m *Manager) applyStage(ctx context.Context, objs []*unstructured.Unstructured) ([]Change, error) {
	checks := make([]*check, len(objs))
	refs := make([]Ref, len(objs))
	for i, o := range objs {
		checks[i] = &check{obj: o, ref: RefOf(o), digest: digestOf(o)}
		refs[i] = checks[i].ref
	}
	live := m.liveVersions(ctx, refs)
	var todo []*check
	for _, c := range checks {
		c.liveRV, c.listed = live.lookup(c.ref)
		if ok, current := m.memory.unchanged(c.ref, c.digest, c.liveRV); ok {
			c.action = Unchanged
			m.note(c.ref, current)
			continue
		}
		todo = append(todo, c)
	}
	each(ctx, len(todo), m.concurrency, func(ctx context.Context, i int) { todo[i].err = m.dryRun(ctx, todo[i]) })
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, c := range todo {
		if c.err != nil {
			return nil, c.err
		}
	}
	var writes []*check
	for _, c := range todo {
		if c.drifted {
			writes = append(writes, c)
		}
	}
	sortWrites(writes)
	each(ctx, len(writes), m.concurrency, func(ctx context.Context, i int) { writes[i].err = m.write(ctx, writes[i]) })
	var firstErr error
	changes := make([]Change, 0, len(checks))
	for _, c := range checks {
		switch {
		case c.err != nil:
			if firstErr == nil {
				firstErr = c.err
			}
		case c.action != "":
			changes = append(changes, Change{Ref: c.ref, Action: c.action})
		}
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return changes, firstErr
}

// dryRun server-side dry-runs c's object and decides whether it would
// change. The live object is read before the dry run if the owner's list
// showed it (or could not be read); an object missing from the list is
// read only if the dry run says it exists.
func (m *Manager) dryRun(ctx context.Context, c *check) error {
	existing := &unstructured.Unstructured{}
	existing.SetGroupVersionKind(c.obj.GroupVersionKind())
	compare := !c.listed || c.liveRV != ""
	if compare {
		// As in fluxcd/pkg/ssa: an unreadable object compares as absent.
		_ = m.c.Get(ctx, client.ObjectKeyFromObject(c.obj), existing)
	}
	dry := m.prepare(c.obj)
	if err := m.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(dry), client.DryRunAll, client.ForceOwnership, client.FieldOwner(m.owner.FieldManager)); err != nil {
		return ssaerrors.NewDryRunErr(err, dry)
	}
	if !compare && dry.GetResourceVersion() != "" {
		// It exists after all (created since the list, or listed under
		// another scope): compare as usual.
		_ = m.c.Get(ctx, client.ObjectKeyFromObject(c.obj), existing)
	}
	switch {
	case dry.GetResourceVersion() == "":
		c.action, c.drifted = Created, true
	case !hasDrifted(existing, dry):
		c.action = Unchanged
		current := isCurrent(dry)
		m.memory.remember(c.ref, c.digest, dry.GetResourceVersion(), current)
		m.note(c.ref, current)
	default:
		c.action, c.drifted = Changed, true
	}
	return nil
}

// write server-side applies c's object.
func (m *Manager) write(ctx context.Context, c *check) error {
	obj := m.prepare(c.obj)
	if err := m.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.ForceOwnership, client.FieldOwner(m.owner.FieldManager)); err != nil {
		m.memory.forget(c.ref)
		return fmt.Errorf("%s apply failed: %w", utils.FmtUnstructured(obj), err)
	}
	current := isCurrent(obj)
	m.memory.remember(c.ref, c.digest, obj.GetResourceVersion(), current)
	m.note(c.ref, current)
	return nil
}

// hasDrifted reports whether the dry-run result differs from the live
// object in labels, annotations or anything outside metadata and status,
// as fluxcd/pkg/ssa decides it.
func hasDrifted(existing, dry *unstructured.Unstructured) bool {
	if dry.GetResourceVersion() == "" {
		return true
	}
	if !apiequality.Semantic.DeepEqual(dry.GetLabels(), existing.GetLabels()) {
		return true
	}
	if !apiequality.Semantic.DeepEqual(dry.GetAnnotations(), existing.GetAnnotations()) {
		return true
	}
	return !apiequality.Semantic.DeepEqual(forDiff(dry).Object, forDiff(existing).Object)
}

// forDiff returns a copy of o without metadata and status, with the
// defaults a dry run adds normalized away.
func forDiff(o *unstructured.Unstructured) *unstructured.Unstructured {
	c := o.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata")
	unstructured.RemoveNestedField(c.Object, "status")
	if err := normalize.DryRunUnstructured(c); err != nil {
		return o
	}
	return c
}

// isCurrent reports whether o is Current by kstatus.
func isCurrent(o *unstructured.Unstructured) bool {
	res, err := status.Compute(o)
	return err == nil && res.Status == status.CurrentStatus
}
