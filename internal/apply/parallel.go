package apply

import (
	"context"
	"sync"
)

// DefaultConcurrency is how many requests a Manager has in flight at most
// while it checks, applies, reads or prunes objects. 16 is where a bare
// client's server-side apply of 1 000 objects was fastest in `make bench`
// (of 1, 4, 8 and 16) on a 2-core machine; the API server's priority and
// fairness queues what it cannot take at once.
const DefaultConcurrency = 16

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
