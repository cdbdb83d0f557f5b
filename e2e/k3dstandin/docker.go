package k3dstandin

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"
)

func byCluster(name string) filters.Args {
	return filters.NewArgs(filters.Arg("label", k3dtypes.LabelClusterName+"="+name))
}

// Leftovers lists what the engine still holds of the k3d cluster name:
// containers and volumes with its k3d.cluster label, and its network
// (which k3d labels only app=k3d), by name.
func Leftovers(ctx context.Context, cli *client.Client, name string) ([]string, error) {
	var left []string
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: byCluster(name)})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	for _, c := range cs {
		left = append(left, "container "+strings.Join(c.Names, ","))
	}
	ns, err := cli.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing networks: %w", err)
	}
	for _, n := range ns {
		if n.Name == "k3d-"+name || n.Labels[k3dtypes.LabelClusterName] == name {
			left = append(left, "network "+n.Name)
		}
	}
	vs, err := cli.VolumeList(ctx, volume.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	for _, v := range vs.Volumes {
		if v.Labels[k3dtypes.LabelClusterName] == name || strings.HasPrefix(v.Name, "k3d-"+name+"-") {
			left = append(left, "volume "+v.Name)
		}
	}
	return left, nil
}

// Sweep force-removes whatever Leftovers would list, for test cleanup.
func Sweep(ctx context.Context, cli *client.Client, name string) error {
	var errs []error
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: byCluster(name)})
	errs = append(errs, err)
	for _, c := range cs {
		errs = append(errs, cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}))
	}
	if err := cli.NetworkRemove(ctx, "k3d-"+name); err != nil && !client.IsErrNotFound(err) {
		errs = append(errs, err)
	}
	vs, err := cli.VolumeList(ctx, volume.ListOptions{Filters: byCluster(name)})
	errs = append(errs, err)
	for _, v := range vs.Volumes {
		errs = append(errs, cli.VolumeRemove(ctx, v.Name, true))
	}
	return errors.Join(errs...)
}

// Imported reads the tags the stand-in ctr of node container recorded
// (RecordFile), copying the file out of the container.
func Imported(ctx context.Context, cli *client.Client, node string) ([]string, error) {
	rc, _, err := cli.CopyFromContainer(ctx, node, RecordFile)
	if err != nil {
		return nil, fmt.Errorf("reading the import record of %s: %w", node, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	if _, err := tr.Next(); err != nil {
		return nil, fmt.Errorf("reading the import record of %s: %w", node, err)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		return nil, fmt.Errorf("reading the import record of %s: %w", node, err)
	}
	return strings.Fields(string(b)), nil
}
