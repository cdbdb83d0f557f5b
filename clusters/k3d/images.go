package k3d

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/docker/docker/errdefs"
	"github.com/k3d-io/k3d/v5/pkg/client"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"
)

// ImportImages loads images into every server and agent node of the
// cluster, as `k3d image import --mode direct` does. Each entry is the path
// of an image tarball (docker save format, such as internal/image writes)
// or the name of an image in the local Docker engine.
//
// Direct mode streams the images into `ctr image import` in each node and
// reports a node's failure; the library's tools-node mode only logs them,
// and needs the k3d-tools image.
func (p *Provider) ImportImages(ctx context.Context, images ...string) error {
	if len(images) == 0 {
		return nil
	}
	if slices.Contains(images, "-") {
		return errors.New("importing images: reading from stdin is not supported")
	}
	name, c, found, err := p.lookup(ctx)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("importing images: k3d cluster %s does not exist", name)
	}
	opts := k3dtypes.ImageImportOpts{Mode: k3dtypes.ImportModeDirect}
	if err := client.ImageImportIntoClusterMulti(ctx, p.rt, images, c, opts); err != nil {
		return fmt.Errorf("importing images into k3d cluster %s: %w", name, err)
	}
	return nil
}

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }
