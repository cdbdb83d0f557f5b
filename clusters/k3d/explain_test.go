package k3d

import (
	"errors"
	"strings"
	"testing"

	"github.com/capstan-gitops/capstan/clusters"
)

func TestExplain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, err     string
		summary, hint string
	}{
		{name: "privileged refused",
			err:     "creating k3d cluster trynew: failed to ensure tools node: docker failed to start container for node 'k3d-trynew-tools': Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: unable to apply caps: operation not permitted: unknown",
			summary: "Docker refused to start a privileged container for k3d cluster trynew", hint: PodmanDocs},
		{name: "port taken",
			err:     "creating k3d cluster trynew: Failed Cluster Start: Failed to start server k3d-trynew-serverlb: Error response from daemon: driver failed programming external connectivity on endpoint k3d-trynew-serverlb (0a1b): Bind for 127.0.0.1:41234 failed: port is already allocated",
			summary: "port 41234 is taken: k3d cluster trynew cannot publish it", hint: "kubeAPI.hostPort"},
		{name: "image not pulled",
			err:     "creating k3d cluster trynew: failed to create node: docker failed to pull image 'capstan.invalid/k3s:none': Error response from daemon: Get \"https://capstan.invalid/v2/\": dial tcp: lookup capstan.invalid: no such host",
			summary: "image capstan.invalid/k3s:none cannot be pulled for k3d cluster trynew", hint: "docker load"},
		{name: "disk full",
			err:     "creating k3d cluster trynew: Error response from daemon: write /var/lib/docker/tmp/x: no space left on device",
			summary: "Docker has no disk space left for k3d cluster trynew", hint: "docker system prune"},
		{name: "memory",
			err:     "creating k3d cluster trynew: Error response from daemon: fork/exec /usr/bin/runc: cannot allocate memory",
			summary: "Docker has no memory left for k3d cluster trynew", hint: "more memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := errors.New(tt.err)
			err := explain("trynew", in)
			var ce *clusters.Error
			if !errors.As(err, &ce) || !errors.Is(err, in) {
				t.Fatalf("explain = %v, want a *clusters.Error wrapping the input", err)
			}
			if ce.Error() != tt.summary || !strings.Contains(ce.Hint(), tt.hint) || ce.Detail() != tt.err {
				t.Errorf("explain = %q (hint %q), want %q with a hint naming %q and the full error as detail", ce, ce.Hint(), tt.summary, tt.hint)
			}
		})
	}
	if err := errors.New("something else"); explain("x", err) != err {
		t.Error("an unknown cause was not returned unchanged")
	}
}
