package apply

import (
	"context"
	"sync"
)

// DefaultConcurrency is how many requests a Manager has in flight at most
// while it checks, applies, reads or prunes objects.
const DefaultConcurrency = 8

// each calls fn for 0..n-1, at most limit calls at a time. Every call runs,
// whatever the others return (a stage is dry-run in full, so that its
// errors are all known), unless ctx ends first.
func each(ctx context.Context, n, limit int, fn func(ctx context.Context, i int)) {
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() {
				<-sem
				wg.Done()
			}()
			fn(ctx, i)
		}()
	}
	wg.Wait()
}
