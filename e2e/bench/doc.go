//go:build bench

// Package bench is Capstan's benchmark, run by `make bench` (build tag
// bench, so that `go test ./...` leaves it out).
//
// For each size N of a deterministic mix (Namespaces, ConfigMaps, Services,
// ServiceAccounts and N/20 Deployments of 2 replicas) it measures, each
// phase on its own fresh simulated cluster of the test environment (4 nodes,
// more when the pods need them) and a git server on loopback:
//
//   - t_limit and t_limit_ready: a bare client-go program server-side
//     applying the same objects (Namespaces first), unthrottled, at
//     parallelism 1, 4, 8 and 16, the best of them; _ready adds waiting until
//     every Deployment is Current by kstatus, watched. t_limit_dry is the same
//     client dry-running each stage in full before writing it, as Capstan does;
//   - t_first, t_first_applied, t_noop, t_change, t_prune, cpu_s and memory
//     of the real controller, the built binary run as its Deployment runs it:
//     its own process with the capstan-controller ServiceAccount's token, as
//     uid 65532, from a root-owned copy of the binary (evicted from the page
//     cache first), in a cgroup v1 memory cgroup of its own. Memory is
//     rss_anon_peak_mib and rss_file_peak_mib (sampled RssAnon and RssFile),
//     working_set_peak_mib (the cgroup's usage minus total_inactive_file, as
//     the kubelet counts it) and rss_peak_mib (VmHWM);
//   - t_first_sops and t_noop_sops: the first sync and an interval no-op of
//     the mix where 100 of the N objects (at most N/10) are Secrets
//     SOPS-encrypted for an age key, synced with spec.decryption;
//   - t_dr: `capstan bootstrap --kubeconfig` onto a fresh cluster from a
//     repository that already holds everything, with the controller run
//     beside it, until bootstrap returns (the root Sync is Ready).
//
// Once per run, the chart phase (figures under n=<the chart's template
// count>) syncs a kustomization of a vendored chart of
// BENCH_CHART_TEMPLATES (60) Deployment templates, then times the build
// step (render and kustomize) of 5 changed revisions, from the
// controller's capstan_sync_build_duration_seconds: t_chart_render_s, the
// median, has a target of 300 ms. A reconcile of the unchanged revision
// must render nothing (chart_noop_renders = 0; the phase fails otherwise).
//
// Each figure is printed as key=value lines (min, median and max over the
// runs) with the ratios and the targets, and written as JSON. The apply is
// judged against t_limit_dry, the bare client that dry-runs each stage
// first as Capstan must; t_limit's ratio is printed as a goal.
// Beside it, each run's directory holds the controller's log and rss.tsv,
// its anonymous and file-backed resident memory and its cgroup's working
// set every 50 ms.
//
// Settings, from the environment: BENCH_RUNS (3), BENCH_SIZES (100,1000),
// BENCH_LARGE=1 (adds 10000), BENCH_OUT (../../bin/bench.json; logs and
// profiles go beside it, under bench/), BENCH_BINARY (the capstan to run;
// built when empty), BENCH_PARALLELISM (1,4,8,16), BENCH_PHASES
// (limit,sync,dr,sops,chart), BENCH_CHART_TEMPLATES (60), BENCH_TIMEOUT
// (15m, each wait), BENCH_PROFILE=1 (CPU and heap profiles of the
// controller through its pprof flag), and for
// experiments BENCH_CONTROLLER_ARGS and BENCH_CONTROLLER_ENV (extra flags
// and environment of the controller process).
package bench
