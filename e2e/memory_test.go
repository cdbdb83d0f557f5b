//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/capstan-gitops/capstan/internal/memtrim"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// TestControllerReleasesStartupPages runs the controller binary twice on
// one cluster: by default it pages out the binary's start-up pages when it
// starts and again once its cache is synced, and is then resident with
// far less of its file than a controller run with
// --release-startup-pages=false at the same point.
func TestControllerReleasesStartupPages(t *testing.T) {
	t.Parallel()
	e := newControllerEnv(t)
	released, releasedLogs := e.startController(t, "--log-level=debug", "--log-format=json")
	kept, keptLogs := e.startController(t, "--log-level=debug", "--log-format=json", "--release-startup-pages=false")
	for _, l := range []*testenv.Buffer{releasedLogs, keptLogs} {
		waitForLog(t, l, "Starting workers")
	}
	var releases []map[string]any
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		releases = logLines(releasedLogs.String(), "released start-up pages")
		return len(releases) == 2, nil
	})
	if err != nil {
		t.Fatalf("want 2 releases logged, got %d:\n%s", len(releases), releasedLogs.Tail(4000))
	}
	for i, r := range releases {
		before, after := r["residentFileKiBBefore"].(float64), r["residentFileKiBAfter"].(float64)
		if before <= 0 || after >= before/2 {
			t.Errorf("release %d: %v KiB of the binary resident before, %v KiB after; want less than half", i+1, before, after)
		}
	}
	if n := len(logLines(keptLogs.String(), "released start-up pages")); n != 0 {
		t.Errorf("--release-startup-pages=false released %d times", n)
	}
	// Both idle now; the difference is the pages only start-up used.
	time.Sleep(time.Second)
	r, k := residentFileKiB(t, released.Process.Pid), residentFileKiB(t, kept.Process.Pid)
	t.Logf("resident file pages when idle: %d KiB released, %d KiB kept", r, k)
	if r+10*1024 > k {
		t.Errorf("released controller has %d KiB of its file resident, the other %d KiB: want at least 10 MiB less", r, k)
	}
}

func waitForLog(t *testing.T, logs *testenv.Buffer, msg string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		return strings.Contains(logs.String(), msg), nil
	})
	if err != nil {
		t.Fatalf("no %q in the controller logs:\n%s", msg, logs.Tail(4000))
	}
}

// logLines returns the JSON log lines whose message is msg.
func logLines(logs, msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(logs, "\n") {
		m := map[string]any{}
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// residentFileKiB reads RssFile of process pid.
func residentFileKiB(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	n := memtrim.ResidentFileKiB(b)
	if n < 0 {
		t.Fatalf("no RssFile in /proc/%d/status", pid)
	}
	return n
}
