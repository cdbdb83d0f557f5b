package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Owner names the Sync that applies a set of objects, and the labels that
// mark its objects.
type Owner struct {
	// FieldManager is the server-side apply field manager.
	FieldManager string
	// Labels are set on every applied object and required on every pruned one.
	Labels map[string]string
}

// Manager applies, waits for and prunes objects for one owner.
type Manager struct {
	rm    *ssa.ResourceManager
	c     client.Client
	owner Owner
}

// NewManager returns a Manager that talks to the cluster through c.
func NewManager(c client.Client, owner Owner) *Manager {
	poller := polling.NewStatusPoller(c, c.RESTMapper(), polling.Options{})
	rm := ssa.NewResourceManager(c, poller, ssa.Owner{Field: owner.FieldManager, Group: "capstan.dev"})
	rm.SetConcurrency(8)
	return &Manager{rm: rm, c: c, owner: owner}
}

// Action is what applying did to one object.
type Action string

// The actions of a Change.
const (
	Created   Action = "created"
	Changed   Action = "changed"
	Unchanged Action = "unchanged"
	Pruned    Action = "pruned"
)

// Change is one object's outcome.
type Change struct {
	Ref    Ref
	Action Action
}

// Result summarises an apply.
type Result struct {
	Changes []Change
}

// Count returns how many changes had action a.
func (r Result) Count(a Action) int {
	n := 0
	for _, c := range r.Changes {
		if c.Action == a {
			n++
		}
	}
	return n
}

// Options tune Apply.
type Options struct {
	// Timeout bounds the wait for CRDs and Namespaces between stages.
	Timeout time.Duration
}

// Apply server-side applies objs in stages: CRDs, Namespaces and cluster
// roles first (waiting until CRDs are established), then everything else.
// Each stage is dry-run in full before any of it is written, so an invalid
// object changes nothing in its stage; objects that would not change are not
// written. objs get the owner's labels.
func (m *Manager) Apply(ctx context.Context, objs []*unstructured.Unstructured, opts Options) (Result, error) {
	for _, o := range objs {
		labels := o.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		for k, v := range m.owner.Labels {
			labels[k] = v
		}
		o.SetLabels(labels)
	}
	applyOpts := ssa.DefaultApplyOptions()
	applyOpts.WaitInterval = 250 * time.Millisecond
	if opts.Timeout > 0 {
		applyOpts.WaitTimeout = opts.Timeout
	}
	cs, err := m.rm.ApplyAllStaged(ctx, objs, applyOpts)
	res := Result{}
	if cs != nil {
		res = toResult(cs)
	}
	if err != nil {
		return res, &Error{Err: err}
	}
	return res, nil
}

func toResult(cs *ssa.ChangeSet) Result {
	res := Result{Changes: make([]Change, 0, len(cs.Entries))}
	for _, e := range cs.Entries {
		ref := Ref{Group: e.ObjMetadata.GroupKind.Group, Kind: e.ObjMetadata.GroupKind.Kind, Namespace: e.ObjMetadata.Namespace, Name: e.ObjMetadata.Name, Version: e.GroupVersion}
		var a Action
		switch e.Action {
		case ssa.CreatedAction:
			a = Created
		case ssa.ConfiguredAction:
			a = Changed
		default:
			a = Unchanged
		}
		res.Changes = append(res.Changes, Change{Ref: ref, Action: a})
	}
	return res
}

// Wait blocks until every object in refs is Current by kstatus (Deployments
// available, Jobs complete, CRDs established) or timeout passes.
func (m *Manager) Wait(ctx context.Context, refs []Ref, timeout time.Duration) error {
	set := make(object.ObjMetadataSet, 0, len(refs))
	for _, r := range refs {
		set = append(set, r.objMetadata())
	}
	err := m.rm.WaitForSetWithContext(ctx, set, ssa.WaitOptions{Interval: 500 * time.Millisecond, Timeout: timeout, FailFast: true})
	if err != nil {
		return fmt.Errorf("waiting for health: %w", err)
	}
	return nil
}

// Error is an apply failure reported by the API server, such as a failed
// validation or an immutable field.
type Error struct{ Err error }

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// IsApplyError reports whether err came from the API server rejecting objects.
func IsApplyError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// DefaultNamespaces sets namespace on every namespaced object that has none,
// as kubectl does. Kinds the cluster does not know yet (a CRD in the same
// set) are left as they are.
func (m *Manager) DefaultNamespaces(objs []*unstructured.Unstructured, namespace string) error {
	for _, o := range objs {
		if o.GetNamespace() != "" {
			continue
		}
		gvk := o.GroupVersionKind()
		mapping, err := m.c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			if meta.IsNoMatchError(err) {
				continue
			}
			return fmt.Errorf("looking up %s: %w", gvk.Kind, err)
		}
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			o.SetNamespace(namespace)
		}
	}
	return nil
}
