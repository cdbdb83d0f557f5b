//go:build bench

// Package bench is Capstan's benchmark, run by `make bench` (build tag
// bench, so that `go test ./...` leaves it out).
//
// For each size N it measures, on simulated clusters from the test
// environment and a git server on loopback:
//
//   - t_limit and t_limit_ready: a bare client-go program server-side
//     applying the same objects (Namespaces first) at parallelism 1, 4, 8
//     and 16, the best of them; _ready adds waiting until every Deployment
//     is Current by kstatus, watched;
//   - t_first, t_first_applied, t_noop, t_change, t_prune, rss_peak_mib and
//     cpu_s of the real controller, the built binary run as its own process
//     with the capstan-controller ServiceAccount's token;
//   - t_dr: `capstan bootstrap --kubeconfig` onto a fresh cluster from a
//     repository that already holds everything, with the controller run
//     beside it, until the root Sync is Ready.
//
// Each figure is printed as key=value lines (min, median and max over
// BENCH_RUNS runs) with the ratios and targets of issue 8, and written as
// JSON to BENCH_OUT.
package bench
