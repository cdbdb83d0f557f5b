// Package kwok runs simulated Kubernetes clusters: a real control plane
// (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) from local
// binaries, with kwok simulating the nodes and the pods on them.
//
// The binaries come from `make kube-bins`, which builds them from the Go
// module proxy into a cache outside the repository. Nothing is downloaded at
// run time.
package kwok

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// KubeVersion is the Kubernetes release whose binaries the cache holds.
const KubeVersion = "v1.37.2"

// Binaries lists the executables a simulated cluster needs.
func Binaries() []string {
	return []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok", "kwokctl"}
}

// ErrBinariesMissing means the control-plane binaries have not been built.
var ErrBinariesMissing = errors.New("control plane binaries not found")

// BinDir returns where the control-plane binaries are expected: $CAPSTAN_KUBE_BIN,
// or the cache that `make kube-bins` fills.
func BinDir() string {
	if d := os.Getenv("CAPSTAN_KUBE_BIN"); d != "" {
		return d
	}
	return filepath.Join(cacheDir(), "kube", KubeVersion, "bin")
}

// cacheDir is Capstan's cache: $CAPSTAN_CACHE, or capstan under the user's
// cache directory (the same place hack/kube-bins.sh fills).
func cacheDir() string {
	if cache := os.Getenv("CAPSTAN_CACHE"); cache != "" {
		return cache
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "capstan")
}

// CheckBinaries reports which binaries are missing from dir, with how to build them.
func CheckBinaries(dir string) error {
	var missing []string
	for _, b := range Binaries() {
		if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w in %s (missing %s): run `make kube-bins` to build them", ErrBinariesMissing, dir, strings.Join(missing, ", "))
	}
	return nil
}

// Runner drives kwokctl for clusters kept under one work directory.
type Runner struct {
	binDir  string
	workDir string
	// held keeps the ports of stopped components bound (see stopComponent).
	held heldPorts
}

// NewRunner returns a Runner using the binaries in binDir and keeping cluster
// state under workDir (never the user's ~/.kwok).
func NewRunner(binDir, workDir string) (*Runner, error) {
	if err := CheckBinaries(binDir); err != nil {
		return nil, err
	}
	return &Runner{binDir: binDir, workDir: workDir}, nil
}

// Create starts a cluster called name and writes an admin kubeconfig to kubeconfig.
func (r *Runner) Create(ctx context.Context, name, kubeconfig string) error {
	unlock, err := lockCreate(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	_, err = r.run(ctx, "create", "cluster", "--name", name, "--kubeconfig", kubeconfig, "--wait", "2m")
	if err != nil {
		return fmt.Errorf("creating kwok cluster %s: %w", name, err)
	}
	return nil
}

// ScaleNodes sets how many simulated nodes the cluster has.
func (r *Runner) ScaleNodes(ctx context.Context, name string, n int) error {
	if _, err := r.run(ctx, "scale", "node", "--name", name, "--replicas", strconv.Itoa(n)); err != nil {
		return fmt.Errorf("scaling kwok cluster %s to %d nodes: %w", name, n, err)
	}
	return nil
}

// Delete stops the cluster and removes its state.
func (r *Runner) Delete(ctx context.Context, name string) error {
	r.held.release(name)
	if _, err := r.run(ctx, "delete", "cluster", "--name", name); err != nil {
		return fmt.Errorf("deleting kwok cluster %s: %w", name, err)
	}
	return nil
}

// DeleteWithKubeconfig stops the cluster, removes its state and removes its
// context from the kubeconfig file at kubeconfig (Delete leaves that to
// kwokctl's default, $KUBECONFIG or ~/.kube/config).
func (r *Runner) DeleteWithKubeconfig(ctx context.Context, name, kubeconfig string) error {
	r.held.release(name)
	if _, err := r.run(ctx, "delete", "cluster", "--name", name, "--kubeconfig", kubeconfig); err != nil {
		return fmt.Errorf("deleting kwok cluster %s: %w", name, err)
	}
	return nil
}

// Clusters lists the clusters kept under the Runner's work directory.
func (r *Runner) Clusters(ctx context.Context) ([]string, error) {
	out, err := r.run(ctx, "get", "clusters")
	if err != nil {
		return nil, fmt.Errorf("listing kwok clusters: %w", err)
	}
	return strings.Fields(string(out)), nil
}

// Kubeconfig returns an admin kubeconfig for the cluster, with credentials inline.
func (r *Runner) Kubeconfig(ctx context.Context, name string) ([]byte, error) {
	out, err := r.run(ctx, "get", "kubeconfig", "--name", name)
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig of kwok cluster %s: %w", name, err)
	}
	return out, nil
}

// Stop stops one component ("kube-apiserver", "etcd", …) of the cluster, or
// all of them when component is empty; Start starts them again.
func (r *Runner) Stop(ctx context.Context, name, component string) error {
	return r.startStop(ctx, "stop", name, component)
}

// Start starts a component stopped by Stop, or the whole cluster when
// component is empty; either way kwokctl starts every component that is not
// running.
func (r *Runner) Start(ctx context.Context, name, component string) error {
	return r.startStop(ctx, "start", name, component)
}

func (r *Runner) startStop(ctx context.Context, verb, name, component string) error {
	if verb == "stop" && component != "" {
		// No cluster is created while the component's ports change hands.
		unlock, err := lockCreate(ctx)
		if err != nil {
			return err
		}
		defer unlock()
		return r.stopComponent(ctx, name, component)
	}
	if verb == "start" && r.held.has(name) {
		// Starting the cluster starts only the components that are not
		// running; their ports, held until now, are let go while no other
		// cluster is being created.
		unlock, err := lockCreate(ctx)
		if err != nil {
			return err
		}
		defer unlock()
		r.held.release(name)
	}
	if _, err := r.run(ctx, verb, "cluster", "--name", name); err != nil {
		return fmt.Errorf("%s %s of kwok cluster %s: %w", verb, orAll(component), name, err)
	}
	return nil
}

func orAll(component string) string {
	if component == "" {
		return "all components"
	}
	return component
}

// Logs returns the log of one component of the cluster.
func (r *Runner) Logs(ctx context.Context, name, component string) ([]byte, error) {
	out, err := r.run(ctx, "logs", component, "--name", name)
	if err != nil {
		return nil, fmt.Errorf("reading %s logs of kwok cluster %s: %w", component, name, err)
	}
	return out, nil
}

// Components lists the components whose logs Logs can read.
func Components() []string {
	return []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller"}
}

func (r *Runner) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(r.binDir, "kwokctl"), args...)
	cmd.Env = append(os.Environ(), r.env()...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("kwokctl %s: %w: %s", strings.Join(args[:2], " "), err, lastLines(stderr.String(), 5))
	}
	return stdout.Bytes(), nil
}

// env points kwokctl at the local binaries so that it never downloads anything.
func (r *Runner) env() []string {
	b := func(n string) string { return filepath.Join(r.binDir, n) }
	return []string{
		"KWOK_WORKDIR=" + r.workDir,
		"KWOK_RUNTIME=binary",
		"KWOK_KUBE_VERSION=" + KubeVersion,
		"KWOK_ETCD_BINARY=" + b("etcd"),
		"KWOK_KUBE_APISERVER_BINARY=" + b("kube-apiserver"),
		"KWOK_KUBE_CONTROLLER_MANAGER_BINARY=" + b("kube-controller-manager"),
		"KWOK_KUBE_SCHEDULER_BINARY=" + b("kube-scheduler"),
		"KWOK_CONTROLLER_BINARY=" + b("kwok"),
		"KWOK_KUBECTL_BINARY=" + b("kubectl"),
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
