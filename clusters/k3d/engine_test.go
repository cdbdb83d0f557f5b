package k3d

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"

	"github.com/capstan-gitops/capstan/clusters"
)

// engine returns a client of the local Docker engine, skipping the test
// when there is none. The tests below need no image registry. They do not
// run in parallel: k3d's docker CLI client initialises process-wide state
// without locks (the race detector flags concurrent use).
func engine(t *testing.T) *client.Client {
	t.Helper()
	if _, err := checkDocker(t.Context()); err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func uniqueName(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func TestEngineMissingCluster(t *testing.T) {
	engine(t)
	p := New(Options{Name: uniqueName("missing"), Kubeconfig: t.TempDir() + "/config"})
	exists, err := p.Exists(t.Context())
	if err != nil || exists {
		t.Errorf("Exists = %t, %v; want false, nil", exists, err)
	}
	if err := p.Delete(t.Context()); err != nil {
		t.Errorf("Delete of a missing cluster: %v", err)
	}
	if err := p.ImportImages(t.Context(), "some.tar"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("ImportImages into a missing cluster = %v, want does not exist", err)
	}
}

// TestEngineRollback makes creation fail (the k3s image cannot be pulled)
// and checks that nothing of the cluster is left behind.
func TestEngineRollback(t *testing.T) {
	docker := engine(t)
	name := uniqueName("rollback")
	p := New(Options{Name: name, Image: "capstan.invalid/k3s:none", Timeout: time.Minute, Kubeconfig: t.TempDir() + "/config"})
	_, err := p.Ensure(t.Context())
	if err == nil {
		t.Fatal("Ensure with an image that cannot be pulled succeeded")
	}
	t.Logf("Ensure failed as expected: %v", err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if exists, err := p.Exists(ctx); err != nil || exists {
		t.Errorf("after rollback Exists = %t, %v; want false", exists, err)
	}
	nets, err := docker.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", "k3d-"+name))})
	if err != nil {
		t.Fatal(err)
	}
	vols, err := docker.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("name", "k3d-"+name))})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, n := range nets {
		left = append(left, "network "+n.Name)
	}
	for _, v := range vols.Volumes {
		left = append(left, "volume "+v.Name)
	}
	if len(left) > 0 {
		t.Errorf("left behind after rollback: %s", strings.Join(left, ", "))
	}
}

// TestEngineDeleteRespectsOwner fakes a one-server k3d cluster with a
// container that is created but never started, from an empty image imported
// into Docker, and checks that Delete removes it only when it carries
// Capstan's label.
func TestEngineDeleteRespectsOwner(t *testing.T) {
	docker := engine(t)
	img := emptyImage(t, docker)
	tests := []struct {
		name   string
		marked bool
	}{
		{name: "created by capstan", marked: true},
		{name: "created by someone else"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := uniqueName("owner")
			id := fakeServer(t, docker, img, name, tt.marked)
			err := New(Options{Name: name}).Delete(t.Context())
			_, inspectErr := docker.ContainerInspect(t.Context(), id)
			gone := errdefs.IsNotFound(inspectErr)
			if tt.marked && (err != nil || !gone) {
				t.Errorf("Delete = %v, container gone %t; want nil, true", err, gone)
			}
			if !tt.marked && (!errors.Is(err, clusters.ErrNotOwned) || gone) {
				t.Errorf("Delete = %v, container gone %t; want ErrNotOwned, false", err, gone)
			}
		})
	}
}

// emptyImage imports an image with no files, so no registry is needed.
func emptyImage(t *testing.T, docker *client.Client) string {
	t.Helper()
	var empty bytes.Buffer
	if err := tar.NewWriter(&empty).Close(); err != nil {
		t.Fatal(err)
	}
	ref := "capstan.test/empty:" + uniqueName("t")
	rc, err := docker.ImageImport(t.Context(), image.ImportSource{Source: &empty, SourceName: "-"}, ref, image.ImportOptions{})
	if err != nil {
		t.Fatalf("importing an empty image: %v", err)
	}
	_ = rc.Close()
	t.Cleanup(func() {
		_, _ = docker.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true})
	})
	return ref
}

func fakeServer(t *testing.T, docker *client.Client, img, cluster string, marked bool) string {
	t.Helper()
	labels := map[string]string{
		"app":                     "k3d",
		k3dtypes.LabelClusterName: cluster,
		k3dtypes.LabelRole:        string(k3dtypes.ServerRole),
	}
	if marked {
		labels[OwnerLabel] = OwnerValue
	}
	cfg := &container.Config{Image: img, Cmd: []string{"/none"}, Labels: labels}
	c, err := docker.ContainerCreate(t.Context(), cfg, nil, nil, nil, "k3d-"+cluster+"-server-0")
	if err != nil {
		t.Fatalf("creating a fake server container: %v", err)
	}
	t.Cleanup(func() {
		_ = docker.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
	})
	return c.ID
}
