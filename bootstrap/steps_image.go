package bootstrap

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/image"
)

// ImageImporter loads image tarballs into the cluster's nodes, for clusters
// that cannot pull the controller image from a registry (k3d).
type ImageImporter interface {
	ImportImages(ctx context.Context, images ...string) error
}

// importImage builds the controller image from a static Capstan executable
// and loads it into the cluster, tagged with the version the manifests
// name, so that `imagePullPolicy: IfNotPresent` finds it. With --image the
// user's registry image is used instead.
func (r *run) importImage(ctx context.Context) (string, error) {
	s := r.in.Settings
	if s.Image != "" {
		return "using " + s.Image + " from its registry", nil
	}
	bin := r.opts.ControllerBinary
	if bin == "" {
		exe, err := image.Executable(runtime.GOARCH)
		if err != nil {
			return "", fmt.Errorf("%w (build capstan with `make build`, which links it statically, or pass --image)", err)
		}
		bin = exe
	}
	ref := manifests.DefaultImage(s.Version)
	tarball := filepath.Join(r.workDir, "capstan-image.tar")
	if err := image.Build(ctx, image.Options{Binary: bin, Ref: ref, Version: s.Version, Output: tarball}); err != nil {
		return "", fmt.Errorf("building the controller image: %w", err)
	}
	if err := r.deps.Images.ImportImages(ctx, tarball); err != nil {
		return "", fmt.Errorf("importing the controller image: %w", err)
	}
	note := "imported " + ref
	if s.Version != r.opts.CLIVersion {
		note += fmt.Sprintf(" (built from this CLI, %s, as the repository pins %s)", r.opts.CLIVersion, s.Version)
	}
	return note, nil
}
