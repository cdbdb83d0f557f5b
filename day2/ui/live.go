package ui

import (
	"context"
	"fmt"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// settle is how long changes are gathered into one event, so that a
// rollout refreshes the page a few times rather than per object.
const settle = 300 * time.Millisecond

// heartbeat keeps the stream open through proxies, shows a dead one, and
// bounds how long a page can show a state the cache had not yet caught up
// with.
const heartbeat = 10 * time.Second

// treeKinds are the kinds whose changes a Sync's page follows, besides
// Syncs: those of workloads and their Pods, and Events.
var treeKinds = []schema.GroupVersionKind{
	{Version: "v1", Kind: "Pod"}, {Group: "apps", Version: "v1", Kind: "ReplicaSet"},
	{Group: "apps", Version: "v1", Kind: "Deployment"}, {Group: "apps", Version: "v1", Kind: "StatefulSet"},
	{Group: "apps", Version: "v1", Kind: "DaemonSet"}, {Version: "v1", Kind: "Event"},
}

// events streams a "change" event whenever a Sync (or, with ?sync=, an
// object kind of its tree) changes. The watches are metadata-only: any
// change moves an object's resourceVersion, and the page then reads what it
// shows afresh.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	kinds := []schema.GroupVersionKind{capstanv1.GroupVersion.WithKind("Sync")}
	if r.URL.Query().Get("sync") != "" {
		kinds = append(kinds, treeKinds...)
	}
	changes := make(chan struct{}, 1)
	for _, k := range kinds {
		ns := ""
		if k.Kind == "Sync" {
			ns = s.opts.Namespace
		}
		go s.follow(ctx, k, ns, changes)
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprint(w, "retry: 2000\n: following the cluster\n\n")
	fl.Flush()
	beat := time.NewTicker(s.beat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			// The beat is a change too: a page read from the Sync cache
			// just before the cache caught up with an event would
			// otherwise wait for the next change. The script replaces
			// the page's live part only when it differs.
			fmt.Fprint(w, "event: change\ndata: {}\n\n")
		case <-changes:
			select {
			case <-ctx.Done():
				return
			case <-time.After(settle):
			}
			select { // what changed meanwhile is in this event too
			case <-changes:
			default:
			}
			fmt.Fprint(w, "event: change\ndata: {}\n\n")
		}
		fl.Flush()
	}
}

// follow watches the metadata of kind in ns from its current state, and
// signals each change on changes; it starts again when the server ends the
// watch, until ctx is done.
func (s *Server) follow(ctx context.Context, kind schema.GroupVersionKind, ns string, changes chan<- struct{}) {
	for ctx.Err() == nil {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(kind.GroupVersion().WithKind(kind.Kind + "List"))
		if err := s.c.List(ctx, list, client.InNamespace(ns), client.Limit(1)); err == nil {
			// What changed before this watch began (after the page was
			// read, or while an ended watch was being started again) has
			// no event of its own: signal once, and the page reads afresh.
			signal(changes)
			s.watchFrom(ctx, list, ns, list.ResourceVersion, changes)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *Server) watchFrom(ctx context.Context, list *metav1.PartialObjectMetadataList, ns, rv string, changes chan<- struct{}) {
	wi, err := s.c.Watch(ctx, list, &client.ListOptions{Namespace: ns, Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}})
	if err != nil {
		return
	}
	defer wi.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-wi.ResultChan():
			if !ok || ev.Type == watch.Error {
				return
			}
			if ev.Type == watch.Bookmark {
				continue
			}
			signal(changes)
		}
	}
}

// signal notes a change without waiting: one pending note is enough.
func signal(changes chan<- struct{}) {
	select {
	case changes <- struct{}{}:
	default:
	}
}
