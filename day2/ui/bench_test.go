package ui

import (
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// The budgets: each page renders within maxRender from a warm
// cache, and the process stays under maxAnon of anonymous memory.
const (
	maxRender = time.Second
	maxAnon   = 80 << 20
)

// BenchmarkUI measures, against a real control plane, the overview of 50
// Syncs and the pages of Syncs of 1 000 and 10 000 objects (ConfigMaps),
// each after one warm-up request; it reports the process's anonymous
// memory after each and fails beyond the budgets: under 1 s for the
// overview and the 1 000 objects, under 80 MiB throughout.
func BenchmarkUI(b *testing.B) {
	w := newBenchWorld(b)
	s := w.serve(b, Options{})
	for _, bc := range []struct {
		name, path string
		timed      bool // held to maxRender; the 10 000 only to maxAnon
	}{
		{"overview-50-syncs", "/", true},
		{"sync-1000-objects", "/syncs/" + w.ns + "/objects-1000", true},
		{"sync-10000-objects", "/syncs/" + w.ns + "/objects-10000", false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if resp, body := s.do(b, "GET", bc.path, "", true, nil); resp.StatusCode != http.StatusOK {
				b.Fatalf("GET %s: %d\n%s", bc.path, resp.StatusCode, body)
			}
			var slowest time.Duration
			for b.Loop() {
				start := time.Now()
				resp, body := s.do(b, "GET", bc.path, "", true, nil)
				slowest = max(slowest, time.Since(start))
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Ready") {
					b.Fatalf("GET %s: %d", bc.path, resp.StatusCode)
				}
			}
			b.ReportMetric(float64(slowest.Milliseconds()), "slowest-ms")
			if bc.timed && slowest > maxRender {
				b.Errorf("%s took %s, over the budget of %s", bc.path, slowest, maxRender)
			}
			debug.FreeOSMemory()
			anon := rssAnon(b)
			b.ReportMetric(float64(anon)/(1<<20), "anon-MiB")
			if anon > maxAnon {
				b.Errorf("anonymous memory %d MiB after %s, over the budget of %d MiB", anon>>20, bc.path, maxAnon>>20)
			}
		})
	}
}

// rssAnon reads this process's anonymous resident memory.
func rssAnon(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status to read memory from: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Skip("no RssAnon in /proc/self/status")
	return 0
}

// newBenchWorld is newWorld plus 50 Syncs, two of which own 1 000 and
// 10 000 ConfigMaps.
func newBenchWorld(b *testing.B) *world {
	w := newWorld(b)
	for i := range 47 {
		w.sync(b, fmt.Sprintf("sync-%02d", i), nil, nil)
	}
	for _, n := range []int{1000, 10000} {
		name := fmt.Sprintf("objects-%d", n)
		names := make(chan int)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failed error
		for range 8 {
			wg.Go(func() {
				for i := range names {
					cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%05d", i), Namespace: w.ns,
						Labels: map[string]string{capstanv1.SyncNameLabel: name, capstanv1.SyncNamespaceLabel: w.ns}},
						Data: map[string]string{"key": "value"}}
					if err := w.c.Create(b.Context(), cm); err != nil {
						mu.Lock()
						failed = err
						mu.Unlock()
					}
				}
			})
		}
		entries := make([]capstanv1.InventoryEntry, 0, n)
		for i := range n {
			idx := i
			if n == 10000 {
				idx += 1000 // past the first Sync's ConfigMaps
			}
			entries = append(entries, capstanv1.InventoryEntry{Kind: "ConfigMap", Namespace: w.ns, Name: fmt.Sprintf("cm-%05d", idx), Version: "v1"})
			names <- idx
		}
		close(names)
		wg.Wait()
		if failed != nil {
			b.Fatal(failed)
		}
		w.sync(b, name, nil, entries)
	}
	return w
}
