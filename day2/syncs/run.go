package syncs

import (
	"time"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// RunText describes what a reconcile did, as `capstan status NAME` shows it
// ("3 created, 0 changed, … took 1.2s, 5m ago"), or "-" for none.
func RunText(r *capstanv1.RunStats, now time.Time) string { return lastRun(r, now) }
