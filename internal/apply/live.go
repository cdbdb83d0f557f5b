package apply

import (
	"context"
	"sort"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// scope is where one list reads objects: a kind at an API version, in one
// namespace or ("") in all of them.
type scope struct {
	gvk       schema.GroupVersionKind
	namespace string
}

// listJob is one list to read: objects of a kind in one namespace, or in
// several namespaces with one cluster-wide list (per namespace if the
// cluster-wide list is forbidden).
type listJob struct {
	gvk        schema.GroupVersionKind
	namespaces []string
}

// groupRefs plans the lists that cover refs: one per kind.
func groupRefs(refs []Ref) []listJob {
	byGVK := map[schema.GroupVersionKind]map[string]struct{}{}
	for _, r := range refs {
		gvk := r.GVK()
		if byGVK[gvk] == nil {
			byGVK[gvk] = map[string]struct{}{}
		}
		byGVK[gvk][r.Namespace] = struct{}{}
	}
	jobs := make([]listJob, 0, len(byGVK))
	for gvk, set := range byGVK {
		j := listJob{gvk: gvk}
		for ns := range set {
			j.namespaces = append(j.namespaces, ns)
		}
		sort.Strings(j.namespaces)
		jobs = append(jobs, j)
	}
	sort.Slice(jobs, func(i, k int) bool { return jobs[i].gvk.String() < jobs[k].gvk.String() })
	return jobs
}

// liveSet is what the owner's labelled lists showed: the resourceVersion
// of each object found, and which scopes were read.
type liveSet struct {
	mu       sync.Mutex
	versions map[Ref]string
	listed   map[scope]bool
}

// lookup returns the listed resourceVersion of r ("" if it was not in the
// list) and whether its scope was read at all.
func (l *liveSet) lookup(r Ref) (string, bool) {
	gvk := r.GVK()
	listed := l.listed[scope{gvk, r.Namespace}] || l.listed[scope{gvk, ""}]
	return l.versions[r.key()], listed
}

// liveVersions lists, metadata only, the objects of refs' kinds that carry
// the owner's labels. A list that fails (a kind the server does not know
// yet, a forbidden scope) leaves its objects unlisted.
func (m *Manager) liveVersions(ctx context.Context, refs []Ref) *liveSet {
	l := &liveSet{versions: map[Ref]string{}, listed: map[scope]bool{}}
	if len(m.owner.Labels) == 0 {
		return l
	}
	jobs := groupRefs(refs)
	each(ctx, len(jobs), m.concurrency, func(ctx context.Context, i int) {
		j := jobs[i]
		if len(j.namespaces) == 1 {
			m.listInto(ctx, l, scope{j.gvk, j.namespaces[0]})
			return
		}
		if err := m.listInto(ctx, l, scope{j.gvk, ""}); err == nil || !apierrors.IsForbidden(err) {
			return
		}
		for _, ns := range j.namespaces {
			_ = m.listInto(ctx, l, scope{j.gvk, ns})
		}
	})
	return l
}

func (m *Manager) listInto(ctx context.Context, l *liveSet, s scope) error {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(s.gvk.GroupVersion().WithKind(s.gvk.Kind + "List"))
	opts := []client.ListOption{client.MatchingLabels(m.owner.Labels)}
	if s.namespace != "" {
		opts = append(opts, client.InNamespace(s.namespace))
	}
	if err := m.c.List(ctx, list, opts...); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.listed[s] = true
	for _, item := range list.Items {
		r := Ref{Group: s.gvk.Group, Kind: s.gvk.Kind, Namespace: item.Namespace, Name: item.Name}
		l.versions[r.key()] = item.ResourceVersion
	}
	return nil
}
