//go:build bench

package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// config is the benchmark's settings, from the environment.
type config struct {
	runs        int           // BENCH_RUNS (3)
	sizes       []int         // BENCH_SIZES (100,1000); BENCH_LARGE=1 adds 10000
	out         string        // BENCH_OUT: the JSON report (bin/bench.json)
	binary      string        // BENCH_BINARY: capstan to run (built when empty)
	profile     bool          // BENCH_PROFILE=1: pprof profiles of the controller beside the report
	parallelism []int         // BENCH_PARALLELISM (1,4,8,16)
	phases      string        // BENCH_PHASES (limit,sync,dr,sops,chart)
	chart       int           // BENCH_CHART_TEMPLATES: templates of the chart scenario's chart (60)
	timeout     time.Duration // BENCH_TIMEOUT: bound of each wait (15m)
	// BENCH_SOURCE_INTERVAL: the Sync's sourceInterval while polling is
	// measured (15s, the default; shorter only to try the bench quickly).
	sourceInterval time.Duration
}

func loadConfig(t *testing.T) config {
	c := config{runs: 3, sizes: []int{100, 1000}, out: "../../bin/bench.json", parallelism: []int{1, 4, 8, 16},
		phases: "limit,sync,dr,sops,chart", chart: 60, timeout: 15 * time.Minute}
	if v := os.Getenv("BENCH_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("BENCH_RUNS=%q: want a positive number", v)
		}
		c.runs = n
	}
	if v := os.Getenv("BENCH_SIZES"); v != "" {
		c.sizes = ints(t, "BENCH_SIZES", v)
	}
	if os.Getenv("BENCH_LARGE") == "1" {
		c.sizes = append(c.sizes, 10000)
	}
	if v := os.Getenv("BENCH_PARALLELISM"); v != "" {
		c.parallelism = ints(t, "BENCH_PARALLELISM", v)
	}
	if v := os.Getenv("BENCH_CHART_TEMPLATES"); v != "" {
		c.chart = ints(t, "BENCH_CHART_TEMPLATES", v)[0]
	}
	if v := os.Getenv("BENCH_OUT"); v != "" {
		c.out = v
	}
	if v := os.Getenv("BENCH_PHASES"); v != "" {
		c.phases = v
	}
	if v := os.Getenv("BENCH_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("BENCH_TIMEOUT=%q: %v", v, err)
		}
		c.timeout = d
	}
	if v := os.Getenv("BENCH_SOURCE_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("BENCH_SOURCE_INTERVAL=%q: want a positive duration", v)
		}
		c.sourceInterval = d
	}
	c.binary = os.Getenv("BENCH_BINARY")
	c.profile = os.Getenv("BENCH_PROFILE") == "1"
	return c
}

func ints(t *testing.T, name, v string) []int {
	var out []int
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want positive numbers separated by commas", name, v)
		}
		out = append(out, n)
	}
	return out
}

func (c config) has(phase string) bool {
	for _, p := range strings.Split(c.phases, ",") {
		if strings.TrimSpace(p) == phase {
			return true
		}
	}
	return false
}

func TestBench(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	cfg := loadConfig(t)
	binary := cfg.binary
	if binary == "" {
		binary = buildBinary(t)
	}
	started := time.Now()
	results := map[int][]figures{}
	for run := 1; run <= cfg.runs; run++ {
		for _, n := range cfg.sizes {
			f := measureSize(t, cfg, binary, n, run)
			withRatios(f)
			results[n] = append(results[n], f)
			t.Logf("run %d, n=%d: %v", run, n, f)
		}
		if cfg.has("chart") {
			// Its figures are under the chart's template count.
			f := measureChartRun(t, cfg, binary, run)
			results[cfg.chart] = append(results[cfg.chart], f)
			t.Logf("run %d, chart of %d templates: %v", run, cfg.chart, f)
		}
	}
	sizes := cfg.sizes
	if cfg.has("chart") && !slices.Contains(sizes, cfg.chart) {
		sizes = append(slices.Clone(sizes), cfg.chart)
	}
	rep := newReport(started, cfg.runs, sizes, results)
	rep.print(os.Stdout)
	if err := rep.write(cfg.out); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("report=%s\n", cfg.out)
}

// measureSize measures every figure of one run at one size, each phase on
// its own fresh cluster.
func measureSize(t *testing.T, cfg config, binary string, n, run int) figures {
	ctx := t.Context()
	dir := filepath.Join(filepath.Dir(cfg.out), "bench", fmt.Sprintf("n%d-run%d", n, run))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// kwok nodes take 110 pods each; the mix has 2 per Deployment, and the
	// bare-client runs (one per parallelism) share one cluster.
	nodes := nodesFor(2 * (n / 20))
	f := figures{"nodes": float64(nodes)}
	if cfg.has("limit") {
		withCluster(t, nodesFor(2*(n/20)*len(cfg.parallelism)), func(c *testenv.Cluster) {
			for _, p := range cfg.parallelism {
				res, err := measureLimit(ctx, c.Config, n, p, false, cfg.timeout)
				if err != nil {
					t.Fatalf("n=%d limit at parallelism %d: %v", n, p, err)
				}
				f[fmt.Sprintf("t_limit_p%02d_s", p)] = res.applied.Seconds()
				f[fmt.Sprintf("t_limit_ready_p%02d_s", p)] = res.ready.Seconds()
				if best, ok := f["t_limit_s"]; !ok || res.applied.Seconds() < best {
					f["t_limit_s"], f["limit_parallelism"] = res.applied.Seconds(), float64(p)
				}
				if best, ok := f["t_limit_ready_s"]; !ok || res.ready.Seconds() < best {
					f["t_limit_ready_s"] = res.ready.Seconds()
				}
			}
			// The same at the best parallelism, but dry-running each stage
			// in full first, as Capstan does.
			res, err := measureLimit(ctx, c.Config, n, int(f["limit_parallelism"]), true, cfg.timeout)
			if err != nil {
				t.Fatalf("n=%d limit with dry runs: %v", n, err)
			}
			f["t_limit_dry_s"] = res.applied.Seconds()
		})
	}
	if cfg.has("sync") {
		withCluster(t, nodes, func(c *testenv.Cluster) {
			// The watches end with the cluster.
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			e := newSyncEnv(ctx, t, cfg, binary, c, dir)
			defer e.ctrl.stop()
			sf, err := measureSync(ctx, e, n)
			for k, v := range sf {
				f[k] = v
			}
			if err != nil {
				t.Fatalf("n=%d sync: %v (controller log: %s)", n, err, filepath.Join(dir, "controller.log"))
			}
		})
	}
	if cfg.has("sops") {
		withCluster(t, nodes, func(c *testenv.Cluster) {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			sopsDir := filepath.Join(dir, "sops")
			if err := os.MkdirAll(sopsDir, 0o755); err != nil {
				t.Fatal(err)
			}
			e := newSyncEnv(ctx, t, cfg, binary, c, sopsDir)
			defer e.ctrl.stop()
			sf, err := measureSOPS(ctx, e, n)
			for k, v := range sf {
				f[k] = v
			}
			if err != nil {
				t.Fatalf("n=%d sops: %v (controller log: %s)", n, err, filepath.Join(sopsDir, "controller.log"))
			}
		})
	}
	if cfg.has("dr") {
		withCluster(t, nodes, func(c *testenv.Cluster) {
			drDir := filepath.Join(dir, "dr")
			if err := os.MkdirAll(drDir, 0o755); err != nil {
				t.Fatal(err)
			}
			df, err := measureDR(ctx, t, binary, c, n, drDir, cfg.timeout)
			for k, v := range df {
				f[k] = v
			}
			if err != nil {
				t.Fatalf("n=%d disaster recovery: %v (logs in %s)", n, err, drDir)
			}
		})
	}
	return f
}

// measureChartRun runs the chart scenario on a fresh cluster of its own.
func measureChartRun(t *testing.T, cfg config, binary string, run int) figures {
	dir := filepath.Join(filepath.Dir(cfg.out), "bench", fmt.Sprintf("chart%d-run%d", cfg.chart, run))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var f figures
	withCluster(t, nodesFor(0), func(c *testenv.Cluster) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		e := newSyncEnv(ctx, t, cfg, binary, c, dir)
		defer e.ctrl.stop()
		var err error
		if f, err = measureChart(ctx, e, cfg.chart); err != nil {
			t.Fatalf("chart of %d templates: %v (controller log: %s)", cfg.chart, err, filepath.Join(dir, "controller.log"))
		}
	})
	return f
}

// nodesFor returns how many simulated nodes hold pods pods with room to
// spare: at least the 4 of issue 8.
func nodesFor(pods int) int {
	return max(4, (pods*11/10+109)/110)
}

// withCluster runs fn on a fresh cluster of nodes simulated nodes.
func withCluster(t *testing.T, nodes int, fn func(*testenv.Cluster)) {
	c, err := testenv.NewCluster(t.Context(), testenv.ClusterOptions{Nodes: nodes})
	if err != nil {
		t.Fatalf("starting cluster: %v", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 2*time.Minute)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Logf("deleting cluster: %v", err)
		}
	}()
	fn(c)
}

// newSyncEnv installs Capstan's CRD and RBAC, starts the controller
// process and a git server, and lets a one-object Sync become Ready, so the
// scenario starts with a controller that is up.
func newSyncEnv(ctx context.Context, t *testing.T, cfg config, binary string, c *testenv.Cluster, dir string) *syncEnv {
	admin, err := newAdmin(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.InstallComponents(ctx, admin); err != nil {
		t.Fatalf("installing components: %v", err)
	}
	e := &syncEnv{t: t, cluster: c, admin: admin, srv: testenv.NewGitServer(t), dir: dir, timeout: cfg.timeout, sourceInterval: cfg.sourceInterval}
	if e.ctrl, err = startController(ctx, binary, c.Config, dir, cfg.profile); err != nil {
		t.Fatal(err)
	}
	e.srv.InitRepo(t, "warmup")
	rev := commit(t, e.srv, "warmup", map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: warmup\n  namespace: default\n"}, "warm up")
	e.srv.InitRepo(t, "config")
	sw, err := watchSync(ctx, c.Config, manifests.Namespace, "warmup")
	if err != nil {
		e.ctrl.stop()
		t.Fatal(err)
	}
	if err := createSync(ctx, admin, e.srv, "warmup", "warmup", ""); err != nil {
		e.ctrl.stop()
		t.Fatal(err)
	}
	if _, err := sw.waitFor(ctx, 0, 2*time.Minute, readyAt(rev)); err != nil {
		e.ctrl.stop()
		t.Fatalf("warm-up sync: %v", err)
	}
	return e
}

// buildBinary builds capstan once for the benchmark.
func buildBinary(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "capstan")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "../../cmd/capstan")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building capstan: %v\n%s", err, out)
	}
	return bin
}
