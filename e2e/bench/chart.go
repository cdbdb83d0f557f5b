//go:build bench

package bench

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// chartSync is the Sync of the chart scenario.
const chartSync = "chart"

// chartChanges is how many changed revisions the chart scenario times.
const chartChanges = 5

// chartFiles is a repository whose addon directory installs a vendored
// chart of n Deployment templates (sharing helpers, reading values),
// with label as an inline value: each new label is a changed revision
// that renders every template anew.
func chartFiles(n int, label string) map[string]string {
	files := map[string]string{
		"addon/kustomization.yaml": "helmCharts:\n- name: large\n  releaseName: big\n  namespace: default\n  valuesInline:\n    labels: {revision: " + strconv.Quote(label) + "}\n",
	}
	for name, data := range testenv.LargeChart(n) {
		files["addon/charts/large/"+name] = data
	}
	return files
}

// measureChart runs the chart scenario on e: a Sync of a chart of n
// templates becomes Ready; then each of chartChanges changed revisions is
// reconciled, its build step (the render included) read from the
// controller's capstan_sync_build_duration_seconds; then a reconcile of
// the unchanged revision must be served from the build cache: no render.
func measureChart(ctx context.Context, e *syncEnv, n int) (figures, error) {
	f := figures{"chart_templates": float64(n)}
	sw, err := watchSync(ctx, e.cluster.Config, manifests.Namespace, chartSync)
	if err != nil {
		return f, err
	}
	e.srv.InitRepo(e.t, "chart")
	rev := commit(e.t, e.srv, "chart", chartFiles(n, "r0"), "a large chart")
	start := time.Now()
	if err := createSync(ctx, e.admin, e.srv, chartSync, "chart", "addon"); err != nil {
		return f, err
	}
	if _, err := sw.waitFor(ctx, 0, e.timeout, readyAt(rev)); err != nil {
		return f, fmt.Errorf("first chart sync: %w", err)
	}
	f["t_chart_first_s"] = time.Since(start).Seconds()

	var builds []float64
	for i := 1; i <= chartChanges; i++ {
		before, err := e.buildStats(ctx)
		if err != nil {
			return f, err
		}
		rev := commit(e.t, e.srv, "chart", chartFiles(n, fmt.Sprintf("r%d", i)), "change the chart's values")
		from := sw.mark()
		if err := requestSync(ctx, e.admin, chartSync); err != nil {
			return f, err
		}
		done, err := sw.waitFor(ctx, from, e.timeout, readyAt(rev))
		if err != nil {
			return f, fmt.Errorf("changed chart revision %d: %w", i, err)
		}
		after, err := e.buildStats(ctx)
		if err != nil {
			return f, err
		}
		if after.rendered != before.rendered+1 {
			return f, fmt.Errorf("changed revision %d: %v renders, want 1", i, after.rendered-before.rendered)
		}
		builds = append(builds, after.renderedSeconds-before.renderedSeconds)
		if run := done.sync.Status.LastRun; run != nil {
			f["t_chart_change_reconcile_s"] = max(f["t_chart_change_reconcile_s"], run.Duration.Seconds())
		}
	}
	f["t_chart_render_s"] = median(builds)
	f["t_chart_render_max_s"] = slices.Max(builds)

	// The unchanged revision: a reconcile served from the build cache.
	before, err := e.buildStats(ctx)
	if err != nil {
		return f, err
	}
	from := sw.mark()
	token := time.Now().Format(time.RFC3339Nano)
	if err := patchSync(ctx, e.admin, chartSync, fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, capstanv1.ReconcileRequestAnnotation, token)); err != nil {
		return f, err
	}
	if _, err := sw.waitFor(ctx, from, e.timeout, func(s *capstanv1.Sync) bool { return s.Status.LastHandledReconcileAt == token }); err != nil {
		return f, fmt.Errorf("reconcile of the unchanged chart revision: %w", err)
	}
	after, err := e.buildStats(ctx)
	if err != nil {
		return f, err
	}
	f["chart_noop_renders"] = after.rendered - before.rendered
	if after.cached > before.cached {
		f["t_chart_noop_build_s"] = (after.cachedSeconds - before.cachedSeconds) / (after.cached - before.cached)
	}
	if f["chart_noop_renders"] != 0 {
		return f, fmt.Errorf("the unchanged revision was rendered %v times, want 0", f["chart_noop_renders"])
	}
	return f, nil
}

// buildStat sums the chart Sync's capstan_sync_build_duration_seconds:
// builds that ran (rendered) and builds the cache served.
type buildStat struct {
	rendered, renderedSeconds float64
	cached, cachedSeconds     float64
}

// buildStats reads the controller's build histogram for the chart Sync.
func (e *syncEnv) buildStats(ctx context.Context) (buildStat, error) {
	body, err := get(ctx, "http://"+e.ctrl.metricsAddr+"/metrics")
	if err != nil {
		return buildStat{}, err
	}
	defer body.Close()
	var s buildStat
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `name="`+chartSync+`"`) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			continue
		}
		cached := strings.Contains(line, `cached="true"`)
		switch {
		case strings.HasPrefix(line, "capstan_sync_build_duration_seconds_count{") && cached:
			s.cached = v
		case strings.HasPrefix(line, "capstan_sync_build_duration_seconds_count{"):
			s.rendered = v
		case strings.HasPrefix(line, "capstan_sync_build_duration_seconds_sum{") && cached:
			s.cachedSeconds = v
		case strings.HasPrefix(line, "capstan_sync_build_duration_seconds_sum{"):
			s.renderedSeconds = v
		}
	}
	return s, sc.Err()
}

// median is the middle value of vs (the upper one of an even count).
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	sorted := slices.Sorted(slices.Values(vs))
	return sorted[len(sorted)/2]
}
