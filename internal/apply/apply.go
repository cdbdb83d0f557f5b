package apply

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fluxcd/pkg/ssa/utils"
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
	c           client.Client
	owner       Owner
	memory      *Memory
	concurrency int

	mu sync.Mutex
	// current records which objects this Manager saw Current by kstatus
	// (in a dry-run or apply response), so that Wait reads only the others.
	current map[Ref]bool
}

// NewManager returns a Manager that talks to the cluster through c. A c
// that can watch (client.WithWatch) lets Wait watch instead of poll.
func NewManager(c client.Client, owner Owner) *Manager {
	return &Manager{c: c, owner: owner, concurrency: DefaultConcurrency, current: map[Ref]bool{}}
}

// WithMemory makes the Manager skip the dry run of objects that mem vouches
// for, and record in mem what it verifies. mem belongs to one owner.
func (m *Manager) WithMemory(mem *Memory) *Manager {
	m.memory = mem
	return m
}

// note records whether the object ref was Current when last seen.
func (m *Manager) note(ref Ref, current bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.current[ref.key()] = current
}

func (m *Manager) seenCurrent(ref Ref) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.current[ref.key()]
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
// roles first (waiting until they are ready), then classes (likewise),
// then everything else. Each stage is dry-run in full before any of it is
// written, so an invalid object changes nothing in its stage; objects that
// would not change are not written. Dry runs and writes go concurrently.
// What is sent carries the owner's labels; objs themselves are not changed.
func (m *Manager) Apply(ctx context.Context, objs []*unstructured.Unstructured, opts Options) (Result, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	res := Result{}
	stages := splitStages(objs)
	for i, stage := range stages {
		if len(stage) == 0 {
			continue
		}
		changes, err := m.applyStage(ctx, stage)
		res.Changes = append(res.Changes, changes...)
		if err != nil {
			return res, &Error{Err: err}
		}
		if i < len(stages)-1 {
			if err := m.waitCurrent(ctx, changeRefs(changes), timeout, false); err != nil {
				return res, &Error{Err: err}
			}
			if err := m.waitMapped(ctx, stage, timeout); err != nil {
				return res, &Error{Err: err}
			}
		}
	}
	m.memory.retain(Refs(objs))
	return res, nil
}

// prepare returns the copy of o that is sent to the API server: with the
// owner's labels, and without a CRD's conversion caBundle (which the API
// server or a webhook injects).
func (m *Manager) prepare(o *unstructured.Unstructured) *unstructured.Unstructured {
	c := o.DeepCopy()
	labels := c.GetLabels()
	if labels == nil {
		labels = make(map[string]string, len(m.owner.Labels))
	}
	for k, v := range m.owner.Labels {
		labels[k] = v
	}
	c.SetLabels(labels)
	utils.RemoveCABundleFromCRD(c)
	return c
}

// splitStages sorts objs into the stages of fluxcd/pkg/ssa's staged apply:
// cluster definitions (CRDs, Namespaces, cluster roles), classes, the rest.
func splitStages(objs []*unstructured.Unstructured) [][]*unstructured.Unstructured {
	stages := make([][]*unstructured.Unstructured, 3)
	for _, o := range objs {
		switch {
		case utils.IsClusterDefinition(o):
			stages[0] = append(stages[0], o)
		case utils.IsClassDefinition(o):
			stages[1] = append(stages[1], o)
		default:
			stages[2] = append(stages[2], o)
		}
	}
	return stages
}

func changeRefs(changes []Change) []Ref {
	refs := make([]Ref, 0, len(changes))
	for _, c := range changes {
		refs = append(refs, c.Ref)
	}
	return refs
}

// Refs returns the references of the objects the apply checked or wrote.
func (r Result) Refs() []Ref { return changeRefs(r.Changes) }

// Wait blocks until every object in refs is Current by kstatus (Deployments
// available, Jobs complete, CRDs established) or timeout passes, and fails
// as soon as one of them has Failed. Objects seen Current by this Manager's
// last Apply are not read again; the others are listed and then watched.
func (m *Manager) Wait(ctx context.Context, refs []Ref, timeout time.Duration) error {
	if err := m.waitCurrent(ctx, refs, timeout, true); err != nil {
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
