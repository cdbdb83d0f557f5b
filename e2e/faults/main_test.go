package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// binary is the capstan executable built once by TestMain; tests only read it.
var binary string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	// controller-runtime's clients in these tests log nothing worth reading.
	ctrllog.SetLogger(logr.Discard())
	dir, err := os.MkdirTemp("", "capstan-faults-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating bin dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "capstan")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	// Default build settings, so that packages compiled for other tests are
	// reused from the build cache.
	build := exec.CommandContext(ctx, "go", "build", "-o", binary, "../../cmd/capstan")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building capstan: %v\n%s", err, out)
		return 1
	}
	code := m.Run()
	shared.close(code)
	return code
}
