package notify

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// Notifier sends notifications in the background. Notify never blocks: it
// queues, and workers send with retries on timeouts, 429 and 5xx. It
// remembers what it sent to each target, so that a state is sent once per
// change (per revision for commit statuses), not once per reconcile. The
// requests to one target go through one worker in order, and a request
// still being retried is dropped once a newer one for the same target is
// queued: a late "pending" never overwrites a "success".
type Notifier struct {
	client  *http.Client
	log     logr.Logger
	backoff []time.Duration
	queues  [workers]chan job

	mu     sync.Mutex
	last   map[string]string
	latest map[string]uint64
	seq    uint64
}

type job struct {
	key, target string
	seq         uint64
	req         Request
}

// workers is how many requests are in flight at once.
const workers = 4

// NewNotifier returns a notifier that sends through client; backoff are the
// waits between attempts (their count + 1 is the number of attempts).
func NewNotifier(client *http.Client, backoff []time.Duration, log logr.Logger) *Notifier {
	n := &Notifier{client: client, log: log, backoff: backoff, last: map[string]string{}, latest: map[string]uint64{}}
	for i := range n.queues {
		n.queues[i] = make(chan job, 64)
	}
	return n
}

// DefaultBackoff is 4 retries over about half a minute.
func DefaultBackoff() []time.Duration {
	return []time.Duration{time.Second, 3 * time.Second, 9 * time.Second, 20 * time.Second}
}

// NeedLeaderElection is true: only the leader reconciles, so only it has
// anything to send.
func (n *Notifier) NeedLeaderElection() bool { return true }

// Start runs the workers until ctx is done.
func (n *Notifier) Start(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, q := range n.queues {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-q:
					n.send(ctx, j)
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// Notify queues what each target wants to hear of ev. key names the Sync
// (its UID, so that a recreated Sync starts afresh).
func (n *Notifier) Notify(key string, targets []Target, ev Event) {
	for i, t := range targets {
		tkey := fmt.Sprintf("%s/%d/%s", key, i, t.Type)
		recovered, ok := n.due(tkey, t, ev)
		if !ok {
			continue
		}
		req, err := Build(t, ev, recovered)
		if err != nil {
			n.log.Info("notification not sent", "sync", ev.Namespace+"/"+ev.Name, "type", string(t.Type), "error", err.Error())
			continue
		}
		h := fnv.New32a()
		_, _ = h.Write([]byte(tkey))
		select {
		case n.queues[h.Sum32()%workers] <- job{key: tkey, target: string(t.Type), seq: n.next(tkey), req: req}:
		default:
			n.log.Info("notification dropped: queue full", "sync", ev.Namespace+"/"+ev.Name, "type", string(t.Type))
		}
	}
}

// due reports whether t is sent ev, recording it, and whether it is a
// recovery.
func (n *Notifier) due(key string, t Target, ev Event) (recovered, ok bool) {
	if !(capstanv1.Notify{Events: t.Events}).Wants(ev.State.Event()) {
		return false, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	last := n.last[key]
	if !IsAlert(t.Type) {
		now := ev.Revision + " " + string(ev.State)
		n.last[key] = now
		return false, last != now
	}
	switch ev.State {
	case Failed, Unhealthy:
		n.last[key] = "failing"
		return false, last != "failing"
	case Healthy:
		n.last[key] = "ok"
		return true, last == "failing"
	}
	return false, false
}

// next returns a new sequence number for key and records it as the latest.
func (n *Notifier) next(key string) uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	n.latest[key] = n.seq
	return n.seq
}

// stale reports whether a newer request for j's target was queued.
func (n *Notifier) stale(j job) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.latest[j.key] != j.seq
}

// send tries a request until it succeeds, fails for good, or runs out of
// attempts.
func (n *Notifier) send(ctx context.Context, j job) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 && n.stale(j) {
			return
		}
		code, err := n.do(ctx, j.req)
		if err == nil && code < 300 {
			return
		}
		retry := err != nil || code == http.StatusTooManyRequests || code >= 500
		if !retry || attempt >= len(n.backoff) {
			n.log.Info("notification failed", "type", j.target, "status", code, "attempts", attempt+1)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(n.backoff[attempt]):
		}
	}
}

func (n *Notifier) do(ctx context.Context, r Request) (int, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, r.reader())
	if err != nil {
		return 0, fmt.Errorf("building notification: %w", err)
	}
	req.Header = r.Header.Clone()
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("sending notification: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}
