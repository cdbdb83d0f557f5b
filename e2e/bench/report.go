//go:build bench

package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"time"
)

// stat is one figure over the runs.
type stat struct {
	Min    float64   `json:"min"`
	Median float64   `json:"median"`
	Max    float64   `json:"max"`
	Values []float64 `json:"values"`
}

// target is one goal of issue 8, judged on the median.
type target struct {
	N      int     `json:"n"`
	Figure string  `json:"figure"`
	Limit  float64 `json:"limit"`
	Median float64 `json:"median"`
	Pass   bool    `json:"pass"`
	// Measured is false when the figure is missing (a size not run).
	Measured bool `json:"measured"`
	// Goal marks a figure worked towards but not required: its verdict is
	// printed as goal-met or goal-missed.
	Goal bool `json:"goal,omitempty"`
}

// report is what the benchmark writes as JSON.
type report struct {
	Started  time.Time                  `json:"started"`
	Duration string                     `json:"duration"`
	Runs     int                        `json:"runs"`
	Sizes    []int                      `json:"sizes"`
	CPUs     int                        `json:"cpus"`
	Figures  map[string]map[string]stat `json:"figures"`
	Targets  []target                   `json:"targets"`
	Notes    map[string]string          `json:"notes"`
}

// withRatios adds the ratios of issue 8 to one run's figures.
func withRatios(f figures) {
	if f["t_limit_s"] > 0 {
		f["ratio_first_applied_over_limit"] = f["t_first_applied_s"] / f["t_limit_s"]
	}
	if f["t_limit_dry_s"] > 0 {
		f["ratio_first_applied_over_limit_dry"] = f["t_first_applied_s"] / f["t_limit_dry_s"]
	}
	if f["t_limit_ready_s"] > 0 {
		f["ratio_first_over_limit_ready"] = f["t_first_s"] / f["t_limit_ready_s"]
	}
}

func summarize(runs map[int][]figures) map[string]map[string]stat {
	out := map[string]map[string]stat{}
	for n, list := range runs {
		keys := map[string][]float64{}
		for _, f := range list {
			for k, v := range f {
				keys[k] = append(keys[k], v)
			}
		}
		m := map[string]stat{}
		for k, vs := range keys {
			sorted := append([]float64(nil), vs...)
			sort.Float64s(sorted)
			med := sorted[len(sorted)/2]
			if len(sorted)%2 == 0 {
				med = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
			}
			m[k] = stat{Min: sorted[0], Median: med, Max: sorted[len(sorted)-1], Values: vs}
		}
		out[strconv.Itoa(n)] = m
	}
	return out
}

// targets judges the goals on the medians. The apply is judged against the
// bare client that dry-runs each stage first (t_limit_dry): a tool that
// writes nothing of an invalid stage must pay that dry run. The pure write
// ratios and t_first at N = 10 000 are printed as goals only.
func targets(figs map[string]map[string]stat) []target {
	goals := []struct {
		n      int
		figure string
		limit  float64
		goal   bool
	}{
		{1000, "ratio_first_applied_over_limit_dry", 1.1, false},
		{1000, "ratio_first_over_limit_ready", 1.1, false},
		{10000, "ratio_first_applied_over_limit_dry", 1.1, false},
		{1000, "ratio_first_applied_over_limit", 1.3, true},
		{10000, "ratio_first_over_limit_ready", 1.1, true},
		{1000, "t_change_s", 1, false},
		{1000, "t_push_poll_median_s", 20, false},
		{1000, "idle_listings_per_interval", 1.25, false},
		{1000, "idle_fetches", 0, false},
		{1000, "t_noop_s", 0.5, false},
		{1000, "noop_rewritten", 0, false},
		{1000, "t_noop_sops_s", 0.5, false},
		{1000, "noop_rewritten_sops", 0, false},
		{1000, "rss_anon_peak_mib", 35, false},
		{10000, "rss_anon_peak_mib", 150, false},
		{1000, "t_dr_s", 20, false},
		{60, "t_chart_render_s", 0.3, false},
		{60, "chart_noop_renders", 0, false},
	}
	var out []target
	for _, g := range goals {
		tg := target{N: g.n, Figure: g.figure, Limit: g.limit, Goal: g.goal}
		if s, ok := figs[strconv.Itoa(g.n)][g.figure]; ok {
			tg.Measured, tg.Median, tg.Pass = true, s.Median, s.Median <= g.limit
		}
		out = append(out, tg)
	}
	return out
}

// print writes one key=value line per figure statistic and target.
func (r *report) print(w io.Writer) {
	sizes := append([]int(nil), r.Sizes...)
	sort.Ints(sizes)
	for _, n := range sizes {
		m := r.Figures[strconv.Itoa(n)]
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s := m[k]
			fmt.Fprintf(w, "n%d.%s.min=%s\nn%d.%s.median=%s\nn%d.%s.max=%s\n", n, k, num(s.Min), n, k, num(s.Median), n, k, num(s.Max))
		}
	}
	for _, tg := range r.Targets {
		verdict := "not-measured"
		if tg.Measured {
			verdict = "FAIL"
			if tg.Pass {
				verdict = "pass"
			}
			if tg.Goal {
				verdict = map[bool]string{true: "goal-met", false: "goal-missed"}[tg.Pass]
			}
		}
		fmt.Fprintf(w, "target.n%d.%s=%s (median %s, limit %s)\n", tg.N, tg.Figure, verdict, num(tg.Median), num(tg.Limit))
	}
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// write stores the report as JSON at path.
func (r *report) write(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating report dir: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding report: %w", err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func newReport(started time.Time, runs int, sizes []int, results map[int][]figures) *report {
	figs := summarize(results)
	return &report{
		Started: started, Duration: time.Since(started).Round(time.Second).String(),
		Runs: runs, Sizes: sizes, CPUs: runtime.NumCPU(),
		Figures: figs, Targets: targets(figs),
		Notes: map[string]string{
			"t_limit_s":                  "bare client-go server-side apply, Namespaces first, unthrottled, best of the parallelisms tried (limit_parallelism)",
			"t_limit_ready_s":            "t_limit plus until every Deployment is Current by kstatus (watched), best of the parallelisms",
			"t_limit_dry_s":              "the bare client at t_limit's parallelism, dry-running each stage in full before writing it (Capstan's guarantee): 2 requests per new object",
			"t_first_s":                  "Sync created until the Sync watch delivers Ready at the pushed revision",
			"t_first_applied_s":          "Sync created until the watch delivers the last of the mix's objects (ADDED)",
			"t_noop_s":                   "status.lastRun.duration of an interval reconcile with nothing changed; noop_rewritten counts resourceVersions that moved",
			"t_noop_sops_s":              "t_noop with 100 of the N objects Secrets SOPS-encrypted for age and a Sync with spec.decryption (an unchanged revision is served by the build cache, not decrypted again); t_first_sops_s its first sync",
			"t_change_s":                 "reconcile request after a commit changing 1% of the objects, until Ready at that commit",
			"t_prune_s":                  "reconcile request after a commit removing 10% of the objects, until the watch saw the last of them deleted",
			"t_push_poll_median_s":       "sourceInterval 15s, no webhook, no request: a commit pushed until the Sync watch delivers Ready at it, median of 5 (t_push_poll_max_s the worst)",
			"idle_listings_per_interval": "listings (GET info/refs) of the idle Sync's repository counted at the git server over 4 sourceIntervals, divided by 4 (idle_fetches: pack requests meanwhile, want 0)",
			"t_dr_s":                     "capstan bootstrap --kubeconfig onto a fresh cluster from a repo holding everything, until it exits (root Sync Ready)",
			"rss_peak_mib":               "VmHWM of the controller process over the scenario (after a one-object warm-up Sync), anonymous and file pages together",
			"rss_anon_peak_mib":          "peak RssAnon of the controller process, sampled every 50 ms: the heap and stacks, what no page cache can give back",
			"rss_file_peak_mib":          "peak RssFile of the controller process, sampled every 50 ms: the binary's pages it maps",
			"working_set_peak_mib":       "peak of the controller's memory cgroup usage minus total_inactive_file (the kubelet's working set), sampled every 50 ms; the controller runs as uid 65532 from a root-owned copy of the binary, evicted from the page cache first",
			"cpu_s":                      "utime+stime of the controller process over the scenario",
			"requests_*":                 "the controller's rest_client_requests_total during the phase",
			"t_chart_render_s":           "chart scenario (figures under n=<the chart's template count>, BENCH_CHART_TEMPLATES, 60): median over 5 changed revisions (new inline values) of the build step of their reconcile, chart render and kustomize included, from the controller's capstan_sync_build_duration_seconds{cached=false}; t_chart_render_max_s the worst",
			"chart_noop_renders":         "renders during a reconcile of the unchanged chart revision (must be 0: the build cache serves it; t_chart_noop_build_s is that cached build step)",
		},
	}
}
