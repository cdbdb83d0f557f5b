package drill

import (
	"context"
	"fmt"
	"sort"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// Timing of the wait for the Syncs.
const (
	pollInterval = 250 * time.Millisecond
	// settleWindow is how long nothing may change before the drill
	// concludes that failed Syncs will stay failed.
	settleWindow = 5 * time.Second
)

// phase is where one Sync stands in the wait.
type phase int

const (
	// working: not reconciled yet, or a requested reconcile not handled yet.
	working phase = iota
	ready
	// failed: the last reconcile failed; a retry may succeed once others progress.
	failed
	// blocked: waiting for a dependency, or suspended; retrying it does nothing.
	blocked
)

// classify says where s stands; token is the reconcile the drill last asked
// of it ("" for none).
func classify(s *capstanv1.Sync, token string) phase {
	st := s.Status
	if s.Spec.Suspend && st.ObservedGeneration == s.Generation {
		return blocked
	}
	if rc := apimeta.FindStatusCondition(st.Conditions, capstanv1.ReconcilingCondition); rc != nil &&
		rc.Status == metav1.ConditionTrue && rc.Reason == capstanv1.DependencyNotReadyReason {
		return blocked
	}
	if st.ObservedGeneration != s.Generation || (token != "" && !s.HandledRequest(token)) {
		return working
	}
	c := apimeta.FindStatusCondition(st.Conditions, capstanv1.ReadyCondition)
	switch {
	case c == nil:
		return working
	case c.Status == metav1.ConditionTrue && st.LastAppliedRevision != "":
		return ready
	case c.Status == metav1.ConditionFalse:
		return failed
	}
	return working
}

// liveSync is a Sync of the rebuilt cluster as the wait last saw it.
type liveSync struct {
	sync       capstanv1.Sync
	phase      phase
	readyAfter time.Duration
	retries    int
}

// waiter follows the Syncs until all are Ready or nothing more can change.
type waiter struct {
	c     client.Client
	start time.Time
	syncs map[string]*liveSync
	// tokens are the reconciles asked of failed Syncs.
	tokens map[string]string
	// readyAtNudge is how many Syncs were Ready when the drill last asked
	// the failed ones to retry; -1 before it ever did.
	readyAtNudge int
	round        int
	settledSince time.Time
	// doomed are the Syncs whose health check can never pass (see
	// doomedSyncs): once they have applied, the wait does not wait for them.
	doomed map[string]bool
	// took is how long the wait lasted.
	took time.Duration
}

func newWaiter(c client.Client, doomed map[string]bool) *waiter {
	return &waiter{c: c, start: time.Now(), syncs: map[string]*liveSync{}, tokens: map[string]string{}, readyAtNudge: -1, doomed: doomed}
}

// wait polls until every Sync is Ready (true), until failed Syncs stay
// failed through a retry with no progress elsewhere (false), or until ctx
// ends (false, timedOut). A Sync whose reconcile failed is asked to retry
// whenever another became Ready since the last retry, as its own retry
// interval would do later in a real cluster.
func (w *waiter) wait(ctx context.Context) (converged, timedOut bool, err error) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	defer func() { w.took = time.Since(w.start) }()
	for {
		done, ok, err := w.step(ctx)
		if err != nil || done {
			return ok, false, err
		}
		select {
		case <-ctx.Done():
			return false, true, nil
		case <-t.C:
		}
	}
}

// step observes the Syncs once and decides whether the wait is over.
func (w *waiter) step(ctx context.Context) (done, converged bool, err error) {
	list := &capstanv1.SyncList{}
	if err := w.c.List(ctx, list); err != nil {
		return false, false, nil // transient (the API server may be busy), or ctx ended
	}
	counts := map[phase]int{}
	for i := range list.Items {
		s := &list.Items[i]
		key := s.Namespace + "/" + s.Name
		ls := w.syncs[key]
		if ls == nil {
			ls = &liveSync{}
			w.syncs[key] = ls
		}
		ls.sync = *s
		ls.phase = classify(s, w.tokens[key])
		if ls.phase == ready && ls.readyAfter == 0 {
			ls.readyAfter = time.Since(w.start)
		}
		if ls.phase == working && w.doomed[key] && s.Status.Inventory != nil {
			// It recorded what it applies (the settle window lets the
			// apply finish), then waits for a health that never comes.
			counts[blocked]++
			continue
		}
		counts[ls.phase]++
	}
	total := len(list.Items)
	switch {
	case total > 0 && counts[ready] == total:
		return true, true, nil
	case total == 0 || counts[working] > 0:
		w.settledSince = time.Time{}
		return false, false, nil
	case counts[failed] > 0 && counts[ready] > w.readyAtNudge:
		w.settledSince = time.Time{}
		return false, false, w.nudge(ctx, counts[ready])
	case w.settledSince.IsZero():
		w.settledSince = time.Now()
	case time.Since(w.settledSince) > settleWindow:
		return true, false, nil
	}
	return false, false, nil
}

// nudge asks every failed Sync to reconcile again now.
func (w *waiter) nudge(ctx context.Context, readyCount int) error {
	w.readyAtNudge = readyCount
	w.round++
	token := fmt.Sprintf("capstan-drill-%d-%d", w.start.UnixNano(), w.round)
	for key, ls := range w.syncs {
		if ls.phase != failed {
			continue
		}
		s := ls.sync.DeepCopy()
		patch := client.MergeFrom(s.DeepCopy())
		metav1.SetMetaDataAnnotation(&s.ObjectMeta, capstanv1.ReconcileRequestAnnotation, token)
		if err := w.c.Patch(ctx, s, patch); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("asking Sync %s to retry: %w", key, err)
		}
		w.tokens[key] = token
		ls.retries++
		ls.phase = working
	}
	return nil
}

// results returns the Syncs seen, sorted by namespace and name.
func (w *waiter) results() []*liveSync {
	out := make([]*liveSync, 0, len(w.syncs))
	for _, ls := range w.syncs {
		out = append(out, ls)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].sync, out[j].sync
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return out
}
