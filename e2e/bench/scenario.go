//go:build bench

package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/internal/kubeclient"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// syncEnv is a cluster with Capstan's CRD and RBAC, the controller process
// and a git server.
type syncEnv struct {
	t       testing.TB
	cluster *testenv.Cluster
	admin   client.Client
	srv     *testenv.GitServer
	ctrl    *controllerProc
	dir     string
	timeout time.Duration
	// sourceInterval is the Sync's spec.sourceInterval in measurePoll;
	// zero is the default (15 s).
	sourceInterval time.Duration
}

// figures are one run's measurements, in seconds, MiB or counts.
type figures map[string]float64

// measureSync runs the controller scenario on env for the n-object mix:
// t_first, t_first_applied, t_noop, t_change and t_prune, then the
// controller's peak memory and CPU time.
func measureSync(ctx context.Context, e *syncEnv, n int) (figures, error) {
	f := figures{}
	w := newWorkload(n, "sync")
	name := "bench"
	obs, err := observe(ctx, e.cluster.Config, capstanv1.SyncNameLabel+"="+name)
	if err != nil {
		return f, err
	}
	sw, err := watchSync(ctx, e.cluster.Config, manifests.Namespace, name)
	if err != nil {
		return f, err
	}
	files, err := w.files("apps")
	if err != nil {
		return f, err
	}
	rev := commit(e.t, e.srv, "config", files, "the mix")
	reqBefore, _ := e.ctrl.requests(ctx)
	if rss, _, err := e.ctrl.usage(); err == nil {
		f["rss_start_mib"] = rss // after the warm-up Sync: the floor
	}

	// t_first: a new Sync until Ready at the pushed revision.
	stopProfile := e.cpuProfile(ctx, fmt.Sprintf("cpu-first-%d.pprof", n))
	start := time.Now()
	if err := createSync(ctx, e.admin, e.srv, name, "config", "apps"); err != nil {
		return f, err
	}
	ready, err := sw.waitFor(ctx, 0, e.timeout, readyAt(rev))
	if err != nil {
		return f, fmt.Errorf("first sync: %w", err)
	}
	stopProfile()
	f["t_first_s"] = ready.at.Sub(start).Seconds()
	lastAdded, missing := obs.latest(w.live(), added)
	if missing > 0 {
		return f, fmt.Errorf("the Sync is Ready but %d of %d objects were not seen", missing, len(w.live()))
	}
	f["t_first_applied_s"] = lastAdded.Sub(start).Seconds()
	f["objects"] = float64(len(w.live()))
	reqAfter, _ := e.ctrl.requests(ctx)
	f["requests_first"] = reqAfter - reqBefore
	_ = e.ctrl.profile(ctx, "heap", filepath.Join(e.dir, fmt.Sprintf("heap-first-%d.pprof", n)))

	if err := e.measureNoop(ctx, f, sw, obs, w, name, rev); err != nil {
		return f, err
	}
	if err := e.measureChange(ctx, f, sw, obs, w, name); err != nil {
		return f, err
	}
	if err := e.measurePrune(ctx, f, sw, obs, w, name); err != nil {
		return f, err
	}
	if err := e.measurePoll(ctx, f, sw, name); err != nil {
		return f, err
	}
	rss, cpu, err := e.ctrl.usage()
	if err != nil {
		return f, err
	}
	f["rss_peak_mib"], f["cpu_s"] = rss, cpu
	f["rss_anon_peak_mib"], f["rss_file_peak_mib"], f["working_set_peak_mib"] = e.ctrl.peaks()
	_ = e.ctrl.profile(ctx, "heap?debug=1", filepath.Join(e.dir, fmt.Sprintf("memstats-end-%d.txt", n)))
	_ = e.ctrl.profile(ctx, "heap", filepath.Join(e.dir, fmt.Sprintf("heap-end-%d.pprof", n)))
	return f, nil
}

// measureNoop times one interval reconcile with nothing changed (the
// duration the controller records in status.lastRun) and checks that it
// rewrote nothing: every object keeps its resourceVersion.
func (e *syncEnv) measureNoop(ctx context.Context, f figures, sw *syncWatch, obs *observer, w *workload, name, rev string) error {
	before := obs.versions(w.live())
	reqBefore, _ := e.ctrl.requests(ctx)
	from := sw.mark()
	if err := patchSync(ctx, e.admin, name, `{"spec":{"interval":"3s"}}`); err != nil {
		return err
	}
	// The spec change itself causes a reconcile; the one after it is the
	// interval's.
	first, err := sw.waitFor(ctx, from, e.timeout, func(s *capstanv1.Sync) bool {
		return readyAt(rev)(s) && s.Spec.Interval.Duration == 3*time.Second && s.Status.LastRun != nil
	})
	if err != nil {
		return fmt.Errorf("no-op after the interval change: %w", err)
	}
	finished := first.sync.Status.LastRun.FinishedAt
	interval, err := sw.waitFor(ctx, from, time.Minute, func(s *capstanv1.Sync) bool {
		return s.Status.LastRun != nil && s.Status.LastRun.FinishedAt.After(finished.Time) && readyAt(rev)(s)
	})
	if err != nil {
		return fmt.Errorf("interval reconcile: %w", err)
	}
	reqAfter, _ := e.ctrl.requests(ctx)
	run := interval.sync.Status.LastRun
	f["t_noop_s"] = run.Duration.Seconds()
	f["requests_noop"] = reqAfter - reqBefore // both reconciles and the status patches
	if run.Created+run.Changed+run.Pruned != 0 {
		return fmt.Errorf("the no-op reconcile wrote objects: %+v", *run)
	}
	after := obs.versions(w.live())
	rewritten := 0
	for r, v := range before {
		if after[r] != v {
			rewritten++
		}
	}
	f["noop_rewritten"] = float64(rewritten)
	if rewritten > 0 {
		return fmt.Errorf("the no-op reconciles changed the resourceVersion of %d objects", rewritten)
	}
	if err := patchSync(ctx, e.admin, name, `{"spec":{"interval":"1h"}}`); err != nil {
		return err
	}
	return quiesce(ctx, sw, 4*time.Second)
}

// measureChange commits a change to 1 % of the objects, requests a sync and
// times it until the Sync has applied the new revision.
func (e *syncEnv) measureChange(ctx context.Context, f figures, sw *syncWatch, obs *observer, w *workload, name string) error {
	before := obs.versions(w.live())
	changed := w.change(100)
	files, err := w.files("apps")
	if err != nil {
		return err
	}
	rev := commit(e.t, e.srv, "config", files, "change 1%")
	reqBefore, _ := e.ctrl.requests(ctx)
	from := sw.mark()
	start := time.Now()
	if err := requestSync(ctx, e.admin, name); err != nil {
		return err
	}
	done, err := sw.waitFor(ctx, from, e.timeout, readyAt(rev))
	if err != nil {
		return fmt.Errorf("change: %w", err)
	}
	f["t_change_s"] = done.at.Sub(start).Seconds()
	reqAfter, _ := e.ctrl.requests(ctx)
	f["requests_change"] = reqAfter - reqBefore
	f["changed"] = float64(len(changed))
	if run := done.sync.Status.LastRun; run == nil || run.Changed != len(changed) {
		return fmt.Errorf("the change run reported %+v, want %d changed", run, len(changed))
	}
	after := obs.versions(w.live())
	isChanged := map[ref]bool{}
	for _, it := range changed {
		isChanged[it.ref] = true
	}
	others := 0
	for r, v := range before {
		if !isChanged[r] && r.Kind != kindDeployment && after[r] != v {
			others++
		}
	}
	f["change_rewritten_others"] = float64(others)
	return nil
}

// measurePrune commits the removal of 10 % of the objects, requests a sync
// and times it until those objects are gone.
func (e *syncEnv) measurePrune(ctx context.Context, f figures, sw *syncWatch, obs *observer, w *workload, name string) error {
	removed := w.remove(10)
	files, err := w.files("apps")
	if err != nil {
		return err
	}
	rev := commit(e.t, e.srv, "config", files, "remove 10%")
	from := sw.mark()
	start := time.Now()
	if err := requestSync(ctx, e.admin, name); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	if err := obs.waitUntil(wctx, all(removed, deleted)); err != nil {
		return fmt.Errorf("waiting for %d pruned objects: %w; Sync: %s", len(removed), err, describe(sw.latest()))
	}
	last, _ := obs.latest(removed, deleted)
	f["t_prune_s"] = last.Sub(start).Seconds()
	f["pruned"] = float64(len(removed))
	done, err := sw.waitFor(ctx, from, e.timeout, readyAt(rev))
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	f["t_prune_ready_s"] = done.at.Sub(start).Seconds()
	if run := done.sync.Status.LastRun; run == nil || run.Pruned != len(removed) {
		return fmt.Errorf("the prune run reported %+v, want %d pruned", run, len(removed))
	}
	return nil
}

// quiesce waits until the Sync has had no new state for quiet.
func quiesce(ctx context.Context, sw *syncWatch, quiet time.Duration) error {
	for {
		mark := sw.mark()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(quiet):
		}
		if sw.mark() == mark {
			return nil
		}
	}
}

// cpuProfile starts a 20 s CPU profile of the controller when profiling is
// on; the returned function waits for it.
func (e *syncEnv) cpuProfile(ctx context.Context, file string) func() {
	if e.ctrl.pprofAddr == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.ctrl.profile(ctx, "profile?seconds=20", filepath.Join(e.dir, file))
	}()
	return func() { <-done }
}

// newAdmin returns an admin client for c that knows Capstan's types.
func newAdmin(c *testenv.Cluster) (client.Client, error) {
	scheme, err := kubeclient.NewScheme()
	if err != nil {
		return nil, err
	}
	cl, err := client.New(c.Config, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("creating admin client: %w", err)
	}
	return cl, nil
}

// createSync creates the Sync name for path of repo over HTTP, with its
// credentials Secret.
func createSync(ctx context.Context, c client.Client, srv *testenv.GitServer, name, repo, path string) error {
	return createSyncWith(ctx, c, srv, name, repo, path, func(*capstanv1.SyncSpec) {})
}

// createSyncWith is createSync with the spec changed by edit.
func createSyncWith(ctx context.Context, c client.Client, srv *testenv.GitServer, name, repo, path string, edit func(*capstanv1.SyncSpec)) error {
	ns := manifests.Namespace
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-git", Namespace: ns},
		Data: map[string][]byte{"username": []byte(srv.Username()), "password": []byte(srv.Password())}}
	if err := c.Create(ctx, secret); client.IgnoreAlreadyExists(err) != nil {
		return fmt.Errorf("creating git secret: %w", err)
	}
	s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: capstanv1.SyncSpec{
		URL: srv.HTTPURL(repo), Path: path, Interval: metav1.Duration{Duration: time.Hour},
		SecretRef: &capstanv1.LocalObjectReference{Name: secret.Name},
		Timeout:   &metav1.Duration{Duration: 20 * time.Minute},
	}}
	edit(&s.Spec)
	if err := c.Create(ctx, s); err != nil {
		return fmt.Errorf("creating sync: %w", err)
	}
	return nil
}

// requestSync asks for a reconcile as `capstan reconcile` does.
func requestSync(ctx context.Context, c client.Client, name string) error {
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, capstanv1.ReconcileRequestAnnotation, time.Now().Format(time.RFC3339Nano))
	return patchSync(ctx, c, name, patch)
}

func patchSync(ctx context.Context, c client.Client, name, patch string) error {
	s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: manifests.Namespace}}
	if err := c.Patch(ctx, s, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		return fmt.Errorf("patching sync %s: %w", name, err)
	}
	return nil
}

// commit writes files on main of repo and returns the Sync revision.
func commit(t testing.TB, srv *testenv.GitServer, repo string, files map[string]string, msg string) string {
	return "main@sha1:" + srv.Commit(t, repo, "main", files, msg)
}
