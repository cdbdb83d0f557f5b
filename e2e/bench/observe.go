//go:build bench

package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	toolswatch "k8s.io/client-go/tools/watch"
)

// seen is what the observer knows about one object.
type seen struct {
	added, deleted, current time.Time
	rv                      string
	present                 bool
}

// observer watches the objects of the mix that carry one label selector and
// records when each appeared, changed, became Current (kstatus) and went.
// Times are when the watch event arrived: within milliseconds of the write.
type observer struct {
	mu      sync.Mutex
	objs    map[ref]*seen
	changed chan struct{}
	errs    []error
}

// observe starts watching every kind of the mix for objects matching
// selector, until ctx is done. It returns once the watches are established.
func observe(ctx context.Context, cfg *rest.Config, selector string) (*observer, error) {
	dc, err := dynamic.NewForConfig(unthrottled(cfg))
	if err != nil {
		return nil, fmt.Errorf("creating dynamic client: %w", err)
	}
	o := &observer{objs: map[ref]*seen{}, changed: make(chan struct{})}
	for _, k := range kinds() {
		list, err := dc.Resource(k.gvr()).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", k, err)
		}
		now := time.Now()
		for i := range list.Items {
			o.record(k, watch.Added, &list.Items[i], now)
		}
		rw, err := toolswatch.NewRetryWatcherWithContext(ctx, list.GetResourceVersion(), &kindWatcher{dc: dc, kind: k, selector: selector})
		if err != nil {
			return nil, fmt.Errorf("watching %s: %w", k, err)
		}
		go o.consume(k, rw)
	}
	return o, nil
}

func (o *observer) consume(k kind, w watch.Interface) {
	defer w.Stop()
	for ev := range w.ResultChan() {
		u, ok := ev.Object.(*unstructured.Unstructured)
		if !ok {
			if ev.Type == watch.Error {
				o.mu.Lock()
				o.errs = append(o.errs, fmt.Errorf("watching %s: %v", k, ev.Object))
				o.mu.Unlock()
			}
			continue
		}
		o.record(k, ev.Type, u, time.Now())
	}
}

func (o *observer) record(k kind, typ watch.EventType, u *unstructured.Unstructured, at time.Time) {
	r := ref{Kind: k, Namespace: u.GetNamespace(), Name: u.GetName()}
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.objs[r]
	if !ok {
		s = &seen{}
		o.objs[r] = s
	}
	switch typ {
	case watch.Added, watch.Modified:
		if !s.present {
			s.added, s.deleted, s.current = at, time.Time{}, time.Time{}
		}
		s.present, s.rv = true, u.GetResourceVersion()
		res, err := status.Compute(u)
		if err == nil && res.Status == status.CurrentStatus {
			if s.current.IsZero() {
				s.current = at
			}
		} else {
			s.current = time.Time{}
		}
	case watch.Deleted:
		s.present, s.deleted, s.current = false, at, time.Time{}
	default:
		return
	}
	close(o.changed)
	o.changed = make(chan struct{})
}

// waitUntil blocks until cond, called with the observer's state locked,
// holds, or ctx is done.
func (o *observer) waitUntil(ctx context.Context, cond func(map[ref]*seen) bool) error {
	for {
		o.mu.Lock()
		ok := cond(o.objs)
		ch := o.changed
		errs := o.errs
		o.mu.Unlock()
		if ok {
			return nil
		}
		if len(errs) > 0 {
			return errs[0]
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// latest returns the latest time pick gives over items, and how many items
// pick reported as not there yet.
func (o *observer) latest(items []item, pick func(*seen) time.Time) (time.Time, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var last time.Time
	missing := 0
	for _, it := range items {
		s, ok := o.objs[it.ref]
		if !ok || pick(s).IsZero() {
			missing++
			continue
		}
		if t := pick(s); t.After(last) {
			last = t
		}
	}
	return last, missing
}

// versions returns the resourceVersions of items.
func (o *observer) versions(items []item) map[ref]string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[ref]string, len(items))
	for _, it := range items {
		if s, ok := o.objs[it.ref]; ok && s.present {
			out[it.ref] = s.rv
		}
	}
	return out
}

// all reports whether pick is set for every item.
func all(items []item, pick func(*seen) time.Time) func(map[ref]*seen) bool {
	return func(objs map[ref]*seen) bool {
		for _, it := range items {
			s, ok := objs[it.ref]
			if !ok || pick(s).IsZero() {
				return false
			}
		}
		return true
	}
}

func added(s *seen) time.Time {
	if !s.present {
		return time.Time{}
	}
	return s.added
}

func deleted(s *seen) time.Time {
	if s.present {
		return time.Time{}
	}
	return s.deleted
}

func current(s *seen) time.Time { return s.current }

// kindWatcher starts the watches of one kind for the retry watcher.
type kindWatcher struct {
	dc       dynamic.Interface
	kind     kind
	selector string
}

func (w *kindWatcher) WatchWithContext(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	opts.LabelSelector = w.selector
	opts.AllowWatchBookmarks = true
	return w.dc.Resource(w.kind.gvr()).Watch(ctx, opts)
}

// unthrottled returns cfg without client-side rate limiting: the bare
// client and the observers go as fast as the API server lets them.
func unthrottled(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = -1, 0
	return c
}
