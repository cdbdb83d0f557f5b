package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// SOPSTools are the reference SOPS and age command-line tools, pinned in
// hack/tools/sops/go.mod, that interoperability tests encrypt and decrypt
// with.
type SOPSTools struct {
	// SOPS is the sops CLI.
	SOPS string
	// AgeKeygen is age-keygen.
	AgeKeygen string
}

// sopsToolPackages are built into the tools directory.
var sopsToolPackages = []string{"github.com/getsops/sops/v3/cmd/sops", "filippo.io/age/cmd/age-keygen"}

// BuildSOPSTools returns the sops and age-keygen binaries pinned in
// hack/tools/sops, building them the first time into the user cache
// directory, under a name derived from the pinned go.sum, so that later
// runs and other packages reuse them.
func BuildSOPSTools(ctx context.Context) (SOPSTools, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return SOPSTools{}, err
	}
	mod := filepath.Join(root, "hack", "tools", "sops")
	sum, err := os.ReadFile(filepath.Join(mod, "go.sum"))
	if err != nil {
		return SOPSTools{}, fmt.Errorf("reading the pinned sops tools: %w", err)
	}
	h := sha256.Sum256(sum)
	cache, err := os.UserCacheDir()
	if err != nil {
		return SOPSTools{}, fmt.Errorf("finding a cache directory for the sops tools: %w", err)
	}
	dir := filepath.Join(cache, "capstan", "sops-tools-"+hex.EncodeToString(h[:8]))
	tools := SOPSTools{SOPS: filepath.Join(dir, "sops"), AgeKeygen: filepath.Join(dir, "age-keygen")}
	if _, err := os.Stat(tools.AgeKeygen); err == nil {
		return tools, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return SOPSTools{}, fmt.Errorf("creating the sops tools cache: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "building-")
	if err != nil {
		return SOPSTools{}, fmt.Errorf("creating the sops tools cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	args := append([]string{"build", "-trimpath", "-o", tmp + string(filepath.Separator)}, sopsToolPackages...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = mod
	if out, err := cmd.CombinedOutput(); err != nil {
		return SOPSTools{}, fmt.Errorf("building the sops tools: %w\n%s", err, out)
	}
	// Another process may have built them meanwhile: either copy is good.
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, fs.ErrExist) && !isNotEmpty(err) {
		return SOPSTools{}, fmt.Errorf("storing the sops tools: %w", err)
	}
	return tools, nil
}

// sopsToolsOnce builds the tools at most once per test binary.
var sopsToolsOnce struct {
	once  sync.Once
	tools SOPSTools
	err   error
}

// SOPSToolsForTest returns the pinned sops tools, built by [BuildSOPSTools]
// at most once per test binary (the first caller's build serves the rest);
// it fails t when they cannot be built.
func SOPSToolsForTest(t testing.TB) SOPSTools {
	t.Helper()
	o := &sopsToolsOnce
	// The build outlives the first test that asks for it: the others wait
	// for the same result.
	o.once.Do(func() { o.tools, o.err = BuildSOPSTools(context.WithoutCancel(t.Context())) })
	if o.err != nil {
		t.Fatal(o.err)
	}
	return o.tools
}

func isNotEmpty(err error) bool {
	return strings.Contains(err.Error(), "directory not empty") || strings.Contains(err.Error(), "file exists")
}

// moduleRoot is the directory of the capstan module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("finding the module root: not inside the capstan module")
	}
	return filepath.Dir(gomod), nil
}
