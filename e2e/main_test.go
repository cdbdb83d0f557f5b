package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

// binary is the capstan executable built once for the package by TestMain.
// Tests read it only; it is set before any test runs.
var binary string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	// controller-runtime's clients in these tests log nothing worth reading.
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	bin, cleanup, err := testenv.BuildCapstan(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	binary = bin
	return m.Run()
}

// result is what one run of the binary produced.
type result struct {
	stdout, stderr string
	code           int
}

// capstan runs the built binary with args and env added to the test's environment.
func capstan(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return runBinary(t, binary, env, args...)
}

// runBinary runs a capstan executable and collects its output and status.
func runBinary(t *testing.T, bin string, env []string, args ...string) result {
	t.Helper()
	return runBinaryIn(t, bin, "", env, args...)
}

// runBinaryIn is runBinary in the working directory dir ("": the test's).
func runBinaryIn(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("running capstan %v: %v", args, err)
	}
	return r
}
