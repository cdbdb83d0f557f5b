//go:build bench

package bench

import (
	"context"
	"fmt"
	"sort"
	"time"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// pollPushes is how many pushes measurePoll times.
const pollPushes = 5

// idleIntervals is how many sourceIntervals measurePoll counts listings
// over while nothing is pushed.
const idleIntervals = 4

// measurePoll sets sourceInterval (the default 15 s unless
// BENCH_SOURCE_INTERVAL says otherwise), counts at the git server what an
// idle Sync asks for over idleIntervals intervals (one listing per
// interval, no fetch), then times pollPushes commits from the push until
// the Sync is Ready at it, with no sync request and no webhook: the median
// and the worst go into the figures.
func (e *syncEnv) measurePoll(ctx context.Context, f figures, sw *syncWatch, name string) error {
	interval := e.sourceInterval
	if interval <= 0 {
		interval = capstanv1.DefaultSourceInterval
	}
	patch := fmt.Sprintf(`{"spec":{"sourceInterval":%q}}`, interval.String())
	if err := patchSync(ctx, e.admin, name, patch); err != nil {
		return err
	}
	if err := quiesce(ctx, sw, 4*time.Second); err != nil {
		return err
	}
	idleFrom := e.srv.Requests("config")
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(idleIntervals * interval):
	}
	idle := e.srv.Requests("config")
	f["idle_listings_per_interval"] = float64(idle.Listings-idleFrom.Listings) / idleIntervals
	f["idle_fetches"] = float64(idle.Fetches - idleFrom.Fetches)
	f["source_interval_s"] = interval.Seconds()

	took := make([]float64, 0, pollPushes)
	for i := range pollPushes {
		cm := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench-poll\n  namespace: default\ndata:\n  push: %q\n", fmt.Sprint(i))
		from := sw.mark()
		start := time.Now()
		rev := commit(e.t, e.srv, "config", map[string]string{"apps/zz-poll.yaml": cm}, fmt.Sprintf("poll %d", i))
		done, err := sw.waitFor(ctx, from, e.timeout, readyAt(rev))
		if err != nil {
			return fmt.Errorf("push %d: %w", i, err)
		}
		took = append(took, done.at.Sub(start).Seconds())
	}
	sort.Float64s(took)
	f["t_push_poll_median_s"], f["t_push_poll_max_s"] = took[len(took)/2], took[len(took)-1]
	return nil
}
