package e2e

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/capstan-gitops/capstan/clusters/k3d"
	"github.com/capstan-gitops/capstan/internal/golden"
)

// preflightCase is one k3d preflight failure: bootstrap and check --pre
// must stop before anything is created and name the cause.
type preflightCase struct {
	name string
	// shim talks to the engine through the test's unprivileged endpoint.
	shim bool
	// extra flags, and what the Cluster step's error must say.
	extra []string
	want  []string
}

// testK3dPreflight runs bootstrap --k3d and check --pre --k3d where they
// must fail before creating anything: straight at this engine, which may
// refuse privileged containers, and with an image that cannot be pulled.
// With the shim and the stand-in images, check --pre --k3d passes.
func testK3dPreflight(t *testing.T, e *k3dEnv) {
	if e.real {
		t.Skip("the stand-in images and the shim are what this test is about")
	}
	engine := []string{"DOCKER_HOST=" + e.docker.DaemonHost()}
	if r := e.run(t, engine, "check", "--pre", "--k3d", "e2e-pf"); r.code == 0 {
		t.Skip("this Docker engine starts privileged containers: nothing to prove here")
	}
	cases := []preflightCase{
		{name: "privileged refused", extra: nil,
			want: []string{"privileged containers: Docker refuses them (unable to apply caps", "hint: k3d runs its nodes as privileged containers", k3d.PodmanDocs}},
		{name: "image absent", shim: true, extra: []string{"--k3s-image", "capstan.invalid/k3s:none"},
			want: []string{"image k3s: capstan.invalid/k3s:none is not present and cannot be pulled", "docker load -i image.tar", "--k3s-image"}},
	}
	for _, pc := range cases {
		t.Run(pc.name, func(t *testing.T) {
			env := engine
			if pc.shim {
				env = nil
			}
			name := k3dClusterName("e2e-pf-")
			e.cleanupCluster(t, name)
			f := newFleet(t)
			kc := filepath.Join(t.TempDir(), "kubeconfig")
			for _, verbose := range []bool{false, true} {
				args := f.bootstrapArgs(kc, append([]string{"--k3d", name}, pc.extra...)...)
				suffix := ""
				if verbose {
					args, suffix = append(args, "--verbose"), "-verbose"
				}
				r := e.run(t, append(f.env(), env...), args...)
				if r.code != 1 || !strings.Contains(r.stderr, "✗ Cluster") {
					t.Fatalf("bootstrap exited %d, want 1 with a failed Cluster step:\n%s", r.code, r.stderr)
				}
				for _, w := range pc.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("bootstrap's stderr does not say %q:\n%s", w, r.stderr)
					}
				}
				if left := e.leftovers(t, name); len(left) > 0 {
					t.Errorf("the preflight left %v", left)
				}
				golden.Assert(t, "k3d-preflight-"+slug(pc.name)+suffix, []byte(normalise(r.stderr, name)))
			}
			checkArgs := append([]string{"check", "--pre", "--k3d", name}, pc.extra...)
			r := e.run(t, env, checkArgs...)
			if r.code != 1 || !strings.Contains(r.stdout, "✗ "+strings.Split(pc.want[0], ":")[0]) {
				t.Errorf("check --pre exited %d, want 1 and the failed check:\n%s%s", r.code, r.stdout, r.stderr)
			}
			golden.Assert(t, "k3d-check-pre-"+slug(pc.name), []byte(normalise(r.stdout+r.stderr, name)))
			r = e.run(t, env, append(checkArgs, "-o", "json", "-v")...)
			var rep struct{ OK bool }
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.OK || r.code != 1 {
				t.Errorf("check --pre -o json -v: exit %d, stdout is not only a failed report (%v):\n%s", r.code, err, r.stdout)
			}
			golden.Assert(t, "k3d-check-pre-"+slug(pc.name)+"-json", []byte(normalise(r.stdout, name)))
			if left := e.leftovers(t, name); len(left) > 0 {
				t.Errorf("check --pre left %v", left)
			}
		})
	}
	t.Run("passes with the shim", func(t *testing.T) {
		if r := e.run(t, nil, "check", "--pre", "--k3d", k3dClusterName("e2e-pf-")); r.code != 0 {
			t.Errorf("check --pre --k3d through the shim exited %d:\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}

var (
	durations = regexp.MustCompile(` \([0-9.]+(µs|ms|s|m)\)`)
	endpoint  = regexp.MustCompile(`unix://[^\s)"]+`)
	registry  = regexp.MustCompile(`lookup ([a-z0-9.-]+) on [0-9.:]+`)
)

// normalise takes out what changes between runs: the cluster name, step
// durations, the shim's socket, the resolver's address.
func normalise(s, name string) string {
	s = strings.ReplaceAll(s, name, "NAME")
	s = durations.ReplaceAllString(s, "")
	s = endpoint.ReplaceAllString(s, "unix://DOCKER")
	return registry.ReplaceAllString(s, "lookup $1 on RESOLVER")
}

func slug(s string) string { return strings.ReplaceAll(s, " ", "-") }
