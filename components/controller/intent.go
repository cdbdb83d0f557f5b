package controller

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/internal/apply"
)

// recordIntent adds to the inventory in the Sync's status, before anything
// is applied, every object the run is about to apply. A controller killed
// mid-apply writes no status: without the intent, the objects it had
// created would be listed nowhere, and a later revision that drops them
// would leave them behind instead of pruning them. The inventory may then
// list objects that were never created; a prune counts a missing object as
// gone. Nothing is written when every object is listed already.
func (run *run) recordIntent(ctx context.Context, old, desired apply.Inventory) error {
	if len(desired.Stale(old)) == 0 {
		return nil
	}
	intent := old.Union(desired).Status()
	obj := run.base.DeepCopy()
	obj.Status.Inventory = intent
	if err := run.r.Client.Status().Patch(ctx, obj, client.MergeFrom(run.base)); err != nil {
		return fmt.Errorf("recording the objects to apply in the inventory: %w", err)
	}
	// Only the inventory moves the base on: the final status patch must not
	// carry the newer resourceVersion, which would turn it into a
	// precondition.
	run.base.Status.Inventory = intent.DeepCopy()
	return nil
}
