package k3d

import (
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/capstan-gitops/capstan/internal/checks"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// TestProbe runs the preflight against the local engine: an image that
// is absent and cannot be pulled (no registry answers for .invalid) is
// named with the fix, and the privileged probe leaves no container.
func TestProbe(t *testing.T) {
	docker := engine(t)
	img := emptyImage(t, docker)
	silent := testenv.SilentAddr(t) // loopback: an insecure registry to Docker by default
	tests := []struct {
		name, image string
		failed      string
		want        []string
	}{
		{name: "absent image", image: "capstan.invalid/k3s:none", failed: "image k3s",
			want: []string{"capstan.invalid/k3s:none is not present and cannot be pulled", "docker load", "--k3s-image"}},
		{name: "registry that does not answer", image: silent + "/k3s:none", failed: "image k3s",
			want: []string{silent + "/k3s:none is not present and cannot be pulled (the registry did not answer within 5s)", "docker load"}},
		{name: "present image", image: img},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := checks.Machine(t.Context(), New(Options{Name: uniqueName("probe"), Image: tt.image}))
			byName := map[string]checks.Result{}
			for _, c := range rep.Checks {
				t.Logf("%s ok=%t: %s (hint %q)", c.Name, c.OK, c.Message, c.Hint)
				byName[c.Name] = c
			}
			for _, name := range []string{"docker", "k3d cluster", "image k3s", "image k3d-tools", "image k3d-proxy", "privileged containers", "ports"} {
				if _, ok := byName[name]; !ok {
					t.Errorf("no %q check", name)
				}
			}
			if tt.failed != "" {
				c := byName[tt.failed]
				got := c.Message + " " + c.Hint
				for _, w := range tt.want {
					if c.OK || !strings.Contains(got, w) {
						t.Errorf("%s = %+v, want a failure saying %q", tt.failed, c, w)
					}
				}
			}
			if c := byName["privileged containers"]; !c.OK && c.Hint != hintPrivileged {
				t.Errorf("privileged check failed without the privileged hint: %+v", c)
			}
			left, err := docker.ContainerList(t.Context(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", ProbeLabel))})
			if err != nil || len(left) > 0 {
				t.Errorf("the probe left containers %v (err %v)", left, err)
			}
		})
	}
}
