package image_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	capimage "github.com/capstan-gitops/capstan/internal/image"
)

// TestDockerRunsImage loads the tarball into a local Docker engine, as
// `docker load` would, and runs it. It is skipped without an engine; no
// registry is involved.
func TestDockerRunsImage(t *testing.T) {
	t.Parallel()
	docker := dockerEngine(t)
	bin := helloBinary(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	ref := "capstan.test/image:" + hex.EncodeToString(b)
	out := filepath.Join(t.TempDir(), "image.tar")
	if err := capimage.Build(t.Context(), capimage.Options{Binary: bin, Ref: ref, Output: out}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	resp, err := docker.ImageLoad(t.Context(), f, true)
	if err != nil {
		t.Fatalf("docker load: %v", err)
	}
	_ = resp.Body.Close()
	t.Cleanup(func() {
		_, _ = docker.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true})
	})

	logs := runContainer(t, docker, ref)
	if logs != "ok\n" {
		t.Errorf("container printed %q, want \"ok\\n\"", logs)
	}
}

func dockerEngine(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Skipf("no Docker client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if _, err := c.Ping(ctx); err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	return c
}

func runContainer(t *testing.T, docker *client.Client, ref string) string {
	t.Helper()
	ctx := t.Context()
	c, err := docker.ContainerCreate(ctx, &container.Config{Image: ref}, nil, nil, nil, "")
	if err != nil {
		t.Fatalf("creating container: %v", err)
	}
	t.Cleanup(func() {
		_ = docker.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
	})
	waitC, errC := docker.ContainerWait(ctx, c.ID, container.WaitConditionNextExit)
	if err := docker.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatalf("starting container: %v", err)
	}
	select {
	case res := <-waitC:
		if res.StatusCode != 0 {
			t.Errorf("container exited with %d", res.StatusCode)
		}
	case err := <-errC:
		t.Fatalf("waiting for container: %v", err)
	}
	info, err := docker.ContainerInspect(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.User != capimage.User || !strings.HasSuffix(info.Path, "/capstan") {
		t.Errorf("container ran %s as %q, want /capstan as %s", info.Path, info.Config.User, capimage.User)
	}
	rc, err := docker.ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, rc); err != nil {
		t.Fatal(err)
	}
	return stdout.String()
}
