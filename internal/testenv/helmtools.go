package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// HelmTools returns the paths of the helm and kustomize CLIs pinned in
// hack/tools/helm, building them (once, into a cache outside the
// repository) with hack/helm-tools.sh.
func HelmTools(ctx context.Context) (helm, kustomize string, err error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", "", fmt.Errorf("finding the module root: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "helm-tools.sh"))
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("building helm and kustomize: %w\n%s", err, stderr.String())
	}
	bin := strings.TrimSpace(string(out))
	return filepath.Join(bin, "helm"), filepath.Join(bin, "kustomize"), nil
}
