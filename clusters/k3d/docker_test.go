package k3d

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/clusters"
)

// TestDockerUnreachable cannot run in parallel: it points DOCKER_HOST at a
// socket that does not exist.
func TestDockerUnreachable(t *testing.T) {
	const endpoint = "unix:///nonexistent.sock"
	t.Setenv("DOCKER_HOST", endpoint)
	t.Setenv("DOCKER_CONTEXT", "")
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	p := New(Options{Name: "unreachable", Kubeconfig: t.TempDir() + "/config"})
	calls := map[string]func(context.Context) error{
		"Ensure":       func(ctx context.Context) error { _, err := p.Ensure(ctx); return err },
		"Exists":       func(ctx context.Context) error { _, err := p.Exists(ctx); return err },
		"Delete":       p.Delete,
		"ImportImages": func(ctx context.Context) error { return p.ImportImages(ctx, "some.tar") },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			err := call(t.Context())
			if !errors.Is(err, ErrDockerUnavailable) {
				t.Fatalf("%s = %v, want ErrDockerUnavailable", name, err)
			}
			var ce *clusters.Error
			if !errors.As(err, &ce) {
				t.Fatalf("%s = %v, want a *clusters.Error", name, err)
			}
			if !strings.Contains(err.Error(), endpoint) ||
				!strings.Contains(ce.Hint(), "start Docker") || !strings.Contains(ce.Hint(), "--kubeconfig") {
				t.Errorf("error %q (hint %q) does not name %s, and say start Docker or use --kubeconfig", err, ce.Hint(), endpoint)
			}
			if d := time.Since(start); d > DockerTimeout+3*time.Second {
				t.Errorf("%s took %s", name, d)
			}
		})
	}
}

// TestDockerMisconfigured cannot run in parallel: it sets DOCKER_* variables.
// The docker CLI client that k3d uses would os.Exit on these.
func TestDockerMisconfigured(t *testing.T) {
	tests := []struct {
		name, host, context, want string
	}{
		{name: "bad DOCKER_HOST", host: "bogus://x", want: "at bogus://x (unable to resolve docker endpoint"},
		{name: "unknown DOCKER_CONTEXT", context: "nosuch", want: "at docker context nosuch (unable to resolve docker endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DOCKER_HOST", tt.host)
			t.Setenv("DOCKER_CONTEXT", tt.context)
			t.Setenv("DOCKER_CONFIG", t.TempDir())
			_, err := New(Options{}).Ensure(t.Context())
			if !errors.Is(err, ErrDockerUnavailable) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Ensure = %v, want ErrDockerUnavailable with %q", err, tt.want)
			}
		})
	}
}

func TestDockerReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{errors.New("Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?"), "is the Docker daemon running?"},
		{errors.New("permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock"), "permission denied: is your user in the docker group?"},
		{fmt.Errorf("no answer within %s", DockerTimeout), "no answer within 5s"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := dockerReason(tt.err); got != tt.want {
				t.Errorf("dockerReason(%q) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
