package syncs

import (
	"context"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
)

// maxEvents is how many recent events `capstan status NAME` shows.
const maxEvents = 10

// Get reads the Sync key; a missing Sync or Sync API is explained.
func Get(ctx context.Context, c client.Reader, key client.ObjectKey) (*capstanv1.Sync, error) {
	s := &capstanv1.Sync{}
	if err := c.Get(ctx, key, s); err != nil {
		return nil, kubeclient.Explain(err, "reading sync "+key.String(), key)
	}
	return s, nil
}

// List reads the Syncs of namespace ("" for every namespace), sorted by
// namespace and name.
func List(ctx context.Context, c client.Reader, namespace string) ([]capstanv1.Sync, error) {
	list := &capstanv1.SyncList{}
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, kubeclient.Explain(err, "listing syncs", client.ObjectKey{Namespace: namespace})
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool {
		if items[i].Namespace != items[j].Namespace {
			return items[i].Namespace < items[j].Namespace
		}
		return items[i].Name < items[j].Name
	})
	return items, nil
}

// Events returns the most recent events about s, oldest first.
func Events(ctx context.Context, c client.Reader, s *capstanv1.Sync) ([]Event, error) {
	list := &corev1.EventList{}
	err := c.List(ctx, list, client.InNamespace(s.Namespace), client.MatchingFields{"involvedObject.uid": string(s.UID)})
	if err != nil {
		return nil, kubeclient.Explain(err, "listing events of sync "+s.Name, client.ObjectKey{})
	}
	events := make([]Event, 0, len(list.Items))
	for _, e := range list.Items {
		events = append(events, ToEvent(e))
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].Time.Before(events[j].Time) })
	if len(events) > maxEvents {
		events = events[len(events)-maxEvents:]
	}
	return events, nil
}

// ToEvent returns what Capstan shows of a Kubernetes event.
func ToEvent(e corev1.Event) Event {
	ev := Event{Type: e.Type, Reason: e.Reason, Message: e.Message, Count: e.Count}
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		ev.Time, ev.Count = e.Series.LastObservedTime.Time, e.Series.Count
	case !e.LastTimestamp.IsZero():
		ev.Time = e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		ev.Time = e.EventTime.Time
	default:
		ev.Time = e.FirstTimestamp.Time
	}
	ev.Time = ev.Time.UTC()
	return ev
}
