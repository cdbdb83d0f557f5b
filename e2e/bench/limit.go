//go:build bench

package bench

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// limitResult is one bare-client run at one parallelism.
type limitResult struct {
	parallelism int
	applied     time.Duration // until the last apply returned
	ready       time.Duration // until every Deployment was Current
}

// measureLimit applies a fresh copy of the n-object mix with a bare
// client-go program by server-side apply, Namespaces first, parallelism
// requests at a time, then waits (watching) until every Deployment is
// Current by kstatus. Nothing throttles the client.
//
// With dryRunFirst, each stage is server-side dry-run in full before any of
// it is written, the guarantee Capstan keeps: the same work as the
// controller's first apply, without git, build or status.
func measureLimit(ctx context.Context, cfg *rest.Config, n, parallelism int, dryRunFirst bool, timeout time.Duration) (limitResult, error) {
	name := fmt.Sprintf("limit-p%02d", parallelism)
	if dryRunFirst {
		name = fmt.Sprintf("limit-dry-p%02d", parallelism)
	}
	w := newWorkload(n, name)
	labels := map[string]string{capstanv1.SyncNameLabel: name, capstanv1.SyncNamespaceLabel: "bench"}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	obs, err := observe(ctx, cfg, capstanv1.SyncNameLabel+"="+name)
	if err != nil {
		return limitResult{}, err
	}
	dc, err := dynamic.NewForConfig(unthrottled(cfg))
	if err != nil {
		return limitResult{}, fmt.Errorf("creating dynamic client: %w", err)
	}
	var namespaces, rest []*unstructured.Unstructured
	for _, o := range w.objects(labels) {
		if o.GetKind() == string(kindNamespace) {
			namespaces = append(namespaces, o)
		} else {
			rest = append(rest, o)
		}
	}
	start := time.Now()
	for _, stage := range [][]*unstructured.Unstructured{namespaces, rest} {
		if dryRunFirst {
			if err := applyAll(ctx, dc, stage, parallelism, []string{metav1.DryRunAll}); err != nil {
				return limitResult{}, err
			}
		}
		if err := applyAll(ctx, dc, stage, parallelism, nil); err != nil {
			return limitResult{}, err
		}
	}
	res := limitResult{parallelism: parallelism, applied: time.Since(start)}
	if dryRunFirst {
		// Only the apply is compared: its pods may not even fit the nodes.
		return res, nil
	}
	var deployments []item
	for _, it := range w.live() {
		if it.Kind == kindDeployment {
			deployments = append(deployments, it)
		}
	}
	if err := obs.waitUntil(ctx, all(deployments, current)); err != nil {
		return res, fmt.Errorf("waiting for %d Deployments: %w", len(deployments), err)
	}
	last, _ := obs.latest(deployments, current)
	res.ready = max(last.Sub(start), res.applied)
	return res, nil
}

// applyAll server-side applies (or with dryRun, dry-runs) objs,
// parallelism at a time, and returns the first error; the others are
// cancelled.
func applyAll(ctx context.Context, dc dynamic.Interface, objs []*unstructured.Unstructured, parallelism int, dryRun []string) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(parallelism, 1))
	for _, o := range objs {
		g.Go(func() error {
			k := kind(o.GetKind())
			_, err := dc.Resource(k.gvr()).Namespace(o.GetNamespace()).Apply(ctx, o.GetName(), o,
				metav1.ApplyOptions{FieldManager: "bench-limit", Force: true, DryRun: dryRun})
			if err != nil {
				return fmt.Errorf("applying %s %s/%s: %w", k, o.GetNamespace(), o.GetName(), err)
			}
			return nil
		})
	}
	return g.Wait()
}
