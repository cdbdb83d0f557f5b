//go:build bench

package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	toolswatch "k8s.io/client-go/tools/watch"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// syncEvent is one state of a Sync and when the watch delivered it.
type syncEvent struct {
	at   time.Time
	sync *capstanv1.Sync
}

// syncWatch records every state of one Sync, as its watch delivers them.
type syncWatch struct {
	mu      sync.Mutex
	events  []syncEvent
	changed chan struct{}
}

// watchSync starts watching the Sync namespace/name (which may not exist
// yet) until ctx is done.
func watchSync(ctx context.Context, cfg *rest.Config, namespace, name string) (*syncWatch, error) {
	dc, err := dynamic.NewForConfig(unthrottled(cfg))
	if err != nil {
		return nil, fmt.Errorf("creating dynamic client: %w", err)
	}
	res := dc.Resource(capstanv1.GroupVersion.WithResource("syncs")).Namespace(namespace)
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	list, err := res.List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("listing syncs: %w", err)
	}
	sw := &syncWatch{changed: make(chan struct{})}
	for i := range list.Items {
		sw.record(&list.Items[i])
	}
	rw, err := toolswatch.NewRetryWatcherWithContext(ctx, list.GetResourceVersion(), &syncWatcher{res: res, selector: sel})
	if err != nil {
		return nil, fmt.Errorf("watching syncs: %w", err)
	}
	go func() {
		defer rw.Stop()
		for ev := range rw.ResultChan() {
			if u, ok := ev.Object.(*unstructured.Unstructured); ok && (ev.Type == watch.Added || ev.Type == watch.Modified) {
				sw.record(u)
			}
		}
	}()
	return sw, nil
}

func (sw *syncWatch) record(u *unstructured.Unstructured) {
	s := &capstanv1.Sync{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, s); err != nil {
		return
	}
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.events = append(sw.events, syncEvent{at: time.Now(), sync: s})
	close(sw.changed)
	sw.changed = make(chan struct{})
}

// mark returns a position in the history: waits from it see only later states.
func (sw *syncWatch) mark() int {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return len(sw.events)
}

// latest returns the newest state of the Sync, or nil.
func (sw *syncWatch) latest() *capstanv1.Sync {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if len(sw.events) == 0 {
		return nil
	}
	return sw.events[len(sw.events)-1].sync
}

// waitFor returns the first state at or after position from for which cond
// holds, and when it arrived.
func (sw *syncWatch) waitFor(ctx context.Context, from int, timeout time.Duration, cond func(*capstanv1.Sync) bool) (syncEvent, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for i := from; ; {
		sw.mu.Lock()
		events := sw.events
		ch := sw.changed
		sw.mu.Unlock()
		for ; i < len(events); i++ {
			if cond(events[i].sync) {
				return events[i], nil
			}
		}
		select {
		case <-ctx.Done():
			return syncEvent{}, fmt.Errorf("waiting for the Sync: %w; last state: %s", ctx.Err(), describe(sw.latest()))
		case <-ch:
		}
	}
}

// readyAt holds when the Sync is Ready at revision for its current spec.
func readyAt(revision string) func(*capstanv1.Sync) bool {
	return func(s *capstanv1.Sync) bool {
		return s.Status.ObservedGeneration == s.Generation && s.Status.LastAppliedRevision == revision &&
			apimeta.IsStatusConditionTrue(s.Status.Conditions, capstanv1.ReadyCondition)
	}
}

func describe(s *capstanv1.Sync) string {
	if s == nil {
		return "none"
	}
	out := fmt.Sprintf("generation %d observed %d applied %q attempted %q", s.Generation, s.Status.ObservedGeneration,
		s.Status.LastAppliedRevision, s.Status.LastAttemptedRevision)
	for _, c := range s.Status.Conditions {
		out += fmt.Sprintf("; %s=%s %s: %.300s", c.Type, c.Status, c.Reason, c.Message)
	}
	return out
}

// syncWatcher starts the watches of one Sync for the retry watcher.
type syncWatcher struct {
	res      dynamic.ResourceInterface
	selector string
}

func (w *syncWatcher) WatchWithContext(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	opts.FieldSelector = w.selector
	opts.AllowWatchBookmarks = true
	return w.res.Watch(ctx, opts)
}
