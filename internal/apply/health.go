package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/pkg/ssa/utils"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// pollInterval is how often health is read again when the client cannot
// watch.
const pollInterval = 250 * time.Millisecond

// health is the kstatus status of one object.
type health struct {
	ref     Ref
	status  status.Status
	message string
}

// waitCurrent blocks until every object in refs is Current by kstatus. The
// objects not already seen Current are listed by kind (with the owner's
// labels) and then watched from that list, so that a status change is
// seen when it happens, at the cost of one request per kind and scope.
// With failFast, it fails as soon as one object has Failed; without, once
// every object is Current or Failed.
func (m *Manager) waitCurrent(ctx context.Context, refs []Ref, timeout time.Duration, failFast bool) error {
	pending := map[Ref]*health{}
	var todo []Ref
	for _, r := range refs {
		if _, dup := pending[r.key()]; dup || m.seenCurrent(r) {
			continue
		}
		pending[r.key()] = &health{ref: r, status: status.UnknownStatus}
		todo = append(todo, r)
	}
	if len(todo) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	updates := make(chan []health)
	errs := make(chan error, 1)
	for _, j := range groupRefs(todo) {
		w := &healthWatch{m: m, job: j, want: pending, out: updates}
		go func() {
			if err := w.run(ctx); err != nil && ctx.Err() == nil {
				select {
				case errs <- err:
				default:
				}
			}
		}()
	}
	for {
		if done, err := judge(pending, failFast); done {
			return err
		}
		select {
		case hs := <-updates:
			for _, h := range hs {
				if p, ok := pending[h.ref.key()]; ok {
					p.status, p.message = h.status, h.message
				}
			}
		case err := <-errs:
			return err
		case <-ctx.Done():
			return notCurrent(pending, ctx.Err())
		}
	}
}

// judge says whether waiting is over, and with which error.
func judge(pending map[Ref]*health, failFast bool) (bool, error) {
	failed, terminal := 0, true
	for _, h := range pending {
		switch h.status {
		case status.CurrentStatus:
		case status.FailedStatus:
			failed++
		default:
			terminal = false
		}
	}
	if failed == 0 && terminal {
		return true, nil
	}
	if (failFast && failed > 0) || terminal {
		return true, notCurrent(pending, nil)
	}
	return false, nil
}

// notCurrent lists the objects that are not Current, worded as
// fluxcd/pkg/ssa words it.
func notCurrent(pending map[Ref]*health, ctxErr error) error {
	var lines []string
	for _, h := range pending {
		if h.status == status.CurrentStatus || (ctxErr == nil && h.status != status.FailedStatus) {
			continue
		}
		line := fmt.Sprintf("%s status: '%s'", utils.FmtObjMetadata(h.ref.objMetadata()), h.status)
		if h.message != "" {
			line += ": " + h.message
		}
		lines = append(lines, line)
	}
	sort.Strings(lines)
	msg := "failed early due to stalled resources"
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		msg = "timeout waiting for"
	} else if ctxErr != nil {
		return ctxErr
	}
	return fmt.Errorf("%s: [%s]", msg, strings.Join(lines, ", "))
}

// healthWatch follows the health of the wanted objects of one kind.
type healthWatch struct {
	m    *Manager
	job  listJob
	want map[Ref]*health // read only: the keys are the objects to report
	out  chan<- []health
}

// run lists the objects, reports them, and follows their changes until ctx
// ends: by watch when the client can, else by listing again.
func (w *healthWatch) run(ctx context.Context) error {
	selector := w.m.owner.Labels
	for {
		list, err := w.list(ctx, selector)
		if apierrors.IsForbidden(err) && len(w.job.namespaces) > 1 {
			return w.perNamespace(ctx)
		}
		if err != nil {
			return err
		}
		found := w.report(ctx, list.Items)
		if found < w.wanted() && selector != nil {
			// Some lack the owner's labels: follow the whole kind instead.
			selector = nil
			continue
		}
		wc, ok := w.m.c.(client.WithWatch)
		if !ok {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(pollInterval):
			}
			continue
		}
		if err := w.follow(ctx, wc, selector, list.GetResourceVersion()); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// perNamespace follows the job's objects one namespace at a time, for an
// identity that may not list them cluster-wide.
func (w *healthWatch) perNamespace(ctx context.Context) error {
	errs := make(chan error, len(w.job.namespaces))
	for _, ns := range w.job.namespaces {
		sub := &healthWatch{m: w.m, job: listJob{gvk: w.job.gvk, namespaces: []string{ns}}, want: w.want, out: w.out}
		go func() { errs <- sub.run(ctx) }()
	}
	for range w.job.namespaces {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

// follow watches from rv until ctx ends or the watch ends or reports an
// error (nil: run lists again), or cannot start.
func (w *healthWatch) follow(ctx context.Context, wc client.WithWatch, selector map[string]string, rv string) error {
	list := w.newList()
	opts := append(w.listOptions(selector), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}})
	wi, err := wc.Watch(ctx, list, opts...)
	if err != nil {
		return fmt.Errorf("watching %s: %w", w.job.gvk.Kind, err)
	}
	defer wi.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return nil
			}
			switch ev.Type {
			case watch.Error:
				// Expired or otherwise broken: list again.
				return nil
			case watch.Added, watch.Modified, watch.Deleted:
				u, ok := ev.Object.(*unstructured.Unstructured)
				if !ok {
					continue
				}
				h := w.healthOf(u)
				if ev.Type == watch.Deleted {
					h.status, h.message = status.NotFoundStatus, "deleted"
				}
				if _, wanted := w.want[h.ref.key()]; wanted {
					if !w.send(ctx, []health{h}) {
						return nil
					}
				}
			}
		}
	}
}

func (w *healthWatch) list(ctx context.Context, selector map[string]string) (*unstructured.UnstructuredList, error) {
	list := w.newList()
	if err := w.m.c.List(ctx, list, w.listOptions(selector)...); err != nil {
		return nil, fmt.Errorf("listing %s: %w", w.job.gvk.Kind, err)
	}
	return list, nil
}

func (w *healthWatch) newList() *unstructured.UnstructuredList {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(w.job.gvk.GroupVersion().WithKind(w.job.gvk.Kind + "List"))
	return list
}

// listOptions select the job's objects: in its one namespace, or in all.
func (w *healthWatch) listOptions(selector map[string]string) []client.ListOption {
	var opts []client.ListOption
	if len(w.job.namespaces) == 1 && w.job.namespaces[0] != "" {
		opts = append(opts, client.InNamespace(w.job.namespaces[0]))
	}
	if len(selector) > 0 {
		opts = append(opts, client.MatchingLabels(selector))
	}
	return opts
}

// report sends the health of the wanted objects among items (and NotFound
// for wanted objects missing from them), and returns how many were found.
func (w *healthWatch) report(ctx context.Context, items []unstructured.Unstructured) int {
	var hs []health
	found := map[Ref]bool{}
	for i := range items {
		h := w.healthOf(&items[i])
		if _, wanted := w.want[h.ref.key()]; wanted {
			hs = append(hs, h)
			found[h.ref.key()] = true
		}
	}
	for r, p := range w.want {
		if w.ours(p.ref) && !found[r] {
			hs = append(hs, health{ref: p.ref, status: status.NotFoundStatus})
		}
	}
	w.send(ctx, hs)
	return len(found)
}

func (w *healthWatch) send(ctx context.Context, hs []health) bool {
	select {
	case w.out <- hs:
		return true
	case <-ctx.Done():
		return false
	}
}

// wanted counts the wanted objects of this job.
func (w *healthWatch) wanted() int {
	n := 0
	for _, p := range w.want {
		if w.ours(p.ref) {
			n++
		}
	}
	return n
}

// ours reports whether r belongs to this job's kind and namespaces.
func (w *healthWatch) ours(r Ref) bool {
	if r.GVK() != w.job.gvk {
		return false
	}
	for _, ns := range w.job.namespaces {
		if ns == r.Namespace {
			return true
		}
	}
	return false
}

func (w *healthWatch) healthOf(u *unstructured.Unstructured) health {
	ref := Ref{Group: w.job.gvk.Group, Version: w.job.gvk.Version, Kind: w.job.gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
	res, err := status.Compute(u)
	if err != nil {
		return health{ref: ref, status: status.UnknownStatus, message: err.Error()}
	}
	return health{ref: ref, status: res.Status, message: res.Message}
}
