package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// capstanPackage is the main package of the capstan executable.
const capstanPackage = "github.com/capstan-gitops/capstan/cmd/capstan"

// BuildCapstan builds the capstan executable into a new temporary directory
// and returns its path and a cleanup that removes the directory. It uses the
// default build settings, so that packages compiled for other tests are
// reused from the build cache.
func BuildCapstan(ctx context.Context) (string, func(), error) {
	dir, err := os.MkdirTemp("", "capstan-bin-")
	if err != nil {
		return "", nil, fmt.Errorf("creating a directory for capstan: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	bin := filepath.Join(dir, "capstan")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, capstanPackage).CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("building capstan: %w\n%s", err, out)
	}
	return bin, cleanup, nil
}
