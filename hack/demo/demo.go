package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/capstan-gitops/capstan/clusters/kwok"
)

// options are the demo's flags.
type options struct {
	capstan, examples, path, cluster, kubeBin, workDir, objectsOut string
}

// readyTimeout bounds the wait for every Sync to be Ready after a bootstrap.
const readyTimeout = 2 * time.Minute

// demo is the state the story's steps share.
type demo struct {
	opts options
	out  *story
	// work holds everything the demo creates; state is where the capstan
	// processes keep kwok clusters ($CAPSTAN_CACHE/kwok).
	work, state string
	git         *gitServer
	gitLog      *os.File
	sidecar     *sidecar
	phases      []phase
	// pushed is the commit the first bootstrap pushed.
	pushed  string
	results objectsFile
	// keyFile is the age key made at run time, in the work dir; secret the
	// Secret encrypted for it.
	keyFile string
	secret  sealed
	// extra are the files committed beside the example: the encrypted Secret.
	extra map[string][]byte
}

// objectsFile is what --objects-out writes, for tests to compare.
type objectsFile struct {
	First   snapshot `json:"first"`
	Rebuilt snapshot `json:"rebuilt"`
	// Pushed is the branch head after the first bootstrap, HeadAfterRebuild
	// after the rebuild: equal when the rebuild pushed nothing.
	Pushed           string `json:"pushed"`
	HeadAfterRebuild string `json:"headAfterRebuild"`
	// SecretDigest is the digest of the value the demo encrypted into git,
	// which each snapshot's Secret must match.
	SecretDigest string `json:"secretDigest"`
}

func newDemo(opts options, w io.Writer) *demo {
	return &demo{opts: opts, out: &story{w: w}}
}

// run tells the whole story and always cleans up after itself.
func (d *demo) run(ctx context.Context) (err error) {
	if err := d.prepare(ctx); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.cleanup()) }()
	d.out.printf("Capstan demo: a cluster declared in git, lost, and rebuilt from git and one age key.\n"+
		"The cluster is simulated: a real Kubernetes control plane (etcd, kube-apiserver, controller-manager,\n"+
		"scheduler) from local binaries, with kwok nodes. No Docker, and nothing leaves this machine.\n"+
		"Everything the demo creates is under %s and removed at the end.\n", d.work)
	steps := []func(context.Context) error{d.encryptSecret, d.serveRepository, d.bootstrapFirst, d.showStatus, d.loseCluster, d.rebuild, d.compare}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("interrupted: %w", ctx.Err())
			}
			return err
		}
	}
	d.out.printTimings(d.phases)
	d.out.printf("\nOn a real cluster it is the same command, with --k3d NAME or --kubeconfig FILE: see README.md.\n")
	return nil
}

// prepare checks the prerequisites, creates the work directory and builds
// capstan when no binary was given.
func (d *demo) prepare(ctx context.Context) error {
	var err error
	if d.opts.kubeBin, err = filepath.Abs(d.opts.kubeBin); err != nil {
		return err
	}
	if err := kwok.CheckBinaries(d.opts.kubeBin); err != nil {
		return err
	}
	if d.opts.examples, err = filepath.Abs(d.opts.examples); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(d.opts.examples, filepath.FromSlash(d.opts.path))); err != nil {
		return fmt.Errorf("the example repository: %w (run the demo from the repository root, or pass --examples)", err)
	}
	if err := d.makeWorkDir(); err != nil {
		return err
	}
	d.state = filepath.Join(d.work, "cache", "kwok")
	if d.gitLog, err = os.Create(filepath.Join(d.work, "git.log")); err != nil {
		return errors.Join(fmt.Errorf("creating git log: %w", err), os.RemoveAll(d.work))
	}
	if d.opts.capstan == "" {
		d.opts.capstan = filepath.Join(d.work, "bin", "capstan")
		d.out.printf("Building capstan from ./cmd/capstan (--capstan BINARY skips this)…\n")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", d.opts.capstan, "./cmd/capstan").CombinedOutput(); err != nil {
			return errors.Join(fmt.Errorf("building capstan (run from the repository root, or pass --capstan): %w\n%s", err, out), d.cleanup())
		}
	}
	if d.opts.capstan, err = filepath.Abs(d.opts.capstan); err != nil {
		return errors.Join(err, d.cleanup())
	}
	return nil
}

// makeWorkDir creates the work directory. A given one must not exist yet,
// since the demo removes it at the end.
func (d *demo) makeWorkDir() error {
	if d.opts.workDir == "" {
		dir, err := os.MkdirTemp("", "capstan-demo-")
		d.work = dir
		return err
	}
	if _, err := os.Stat(d.opts.workDir); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--work-dir %s exists: give a new directory, the demo removes it at the end", d.opts.workDir)
	}
	dir, err := filepath.Abs(d.opts.workDir)
	if err != nil {
		return err
	}
	d.work = dir
	return os.MkdirAll(dir, 0o700)
}

// kubeconfig is the admin kubeconfig `capstan bootstrap --kwok` writes, and
// kubeContext its context.
func (d *demo) kubeconfig() string  { return filepath.Join(d.state, d.opts.cluster+".kubeconfig") }
func (d *demo) kubeContext() string { return "kwok-" + d.opts.cluster }

// env is the environment of the capstan processes: the control-plane
// binaries, a kwok state dir of the demo's own, the git password and the
// cluster's kubeconfig.
func (d *demo) env() []string {
	return append(os.Environ(),
		"CAPSTAN_KUBE_BIN="+d.opts.kubeBin,
		"CAPSTAN_CACHE="+filepath.Dir(d.state),
		"CAPSTAN_GIT_PASSWORD="+d.git.Auth.Password,
		"KUBECONFIG="+d.kubeconfig(),
		"NO_COLOR=1")
}

// capstan runs the capstan binary and prints its output under the step.
// An interrupt reaches it as SIGINT, so that it cleans up too.
func (d *demo) capstan(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, d.opts.capstan, args...)
	cmd.Env = d.env()
	out := d.out.output()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 2 * time.Minute
	err := cmd.Run()
	out.Flush()
	if err != nil {
		return fmt.Errorf("capstan %s: %w", args[0], err)
	}
	return nil
}

// startSidecar runs the controller beside the cluster that bootstrap is
// about to create, and says so once it runs.
func (d *demo) startSidecar(ctx context.Context) {
	d.sidecar = startSidecar(ctx, sidecarConfig{
		capstan: d.opts.capstan, kubeconfig: d.kubeconfig(), context: d.kubeContext(),
		dir: filepath.Join(d.work, fmt.Sprintf("controller-%d", len(d.phases))),
	})
	go func(s *sidecar) {
		select {
		case pid := <-s.started:
			d.out.note("▸ capstan controller started beside %s (pid %d)", d.kubeContext(), pid)
		case <-s.done:
		}
	}(d.sidecar)
}

// stopSidecar stops the running controller, if any.
func (d *demo) stopSidecar() error {
	if d.sidecar == nil {
		return nil
	}
	err := d.sidecar.stop()
	d.sidecar = nil
	return err
}

// bootstrapArgs is the one command of the first bootstrap and of the rebuild.
func (d *demo) bootstrapArgs() []string {
	return []string{"bootstrap", "--kwok", d.opts.cluster, "--url", d.git.URL, "--path", d.opts.path, "--username", d.git.Auth.Username, "--age-key-file", d.keyFile}
}

// runBootstrap runs bootstrap with the controller beside the cluster.
func (d *demo) runBootstrap(ctx context.Context) error {
	d.startSidecar(ctx)
	err := d.capstan(ctx, d.bootstrapArgs()...)
	if err != nil && ctx.Err() == nil && d.sidecar != nil {
		if tail := d.sidecar.logTail(30); tail != "" {
			d.out.note("last lines of the controller's log:")
			out := d.out.output()
			fmt.Fprintln(out, tail)
		}
	}
	return err
}

// deleteClusters deletes every kwok cluster under the demo's state dir.
func (d *demo) deleteClusters(ctx context.Context) ([]string, error) {
	if _, err := os.Stat(d.state); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	r, err := kwok.NewRunner(d.opts.kubeBin, d.state)
	if err != nil {
		return nil, err
	}
	names, err := r.Clusters(ctx)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, name := range names {
		p, err := kwok.New(kwok.Options{Name: name, WorkDir: d.state, BinDir: d.opts.kubeBin})
		if err == nil {
			err = p.Delete(ctx)
		}
		errs = append(errs, err)
	}
	return names, errors.Join(errs...)
}

// cleanup removes everything the demo started, with a context of its own
// so that it also runs after an interrupt.
func (d *demo) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d.out.title("Clean up", "Everything the demo started goes: the controller, the cluster, the git server, the work dir.")
	start := time.Now()
	var errs []error
	if err := d.stopSidecar(); err != nil {
		errs = append(errs, err)
	}
	names, err := d.deleteClusters(ctx)
	errs = append(errs, err)
	if d.git != nil {
		errs = append(errs, d.git.Close())
	}
	if d.gitLog != nil {
		errs = append(errs, d.gitLog.Close())
	}
	errs = append(errs, os.RemoveAll(d.work))
	if err := errors.Join(errs...); err != nil {
		d.out.note("✗ cleaning up: %v", err)
		return fmt.Errorf("cleaning up: %w", err)
	}
	what := "nothing left behind"
	if len(names) > 0 {
		what = "deleted cluster " + strings.Join(names, ", ") + "; " + what
	}
	d.out.done(what, time.Since(start))
	return nil
}

// writeObjects writes --objects-out.
func (d *demo) writeObjects() error {
	if d.opts.objectsOut == "" {
		return nil
	}
	data, err := json.MarshalIndent(d.results, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(d.opts.objectsOut, append(data, '\n'), 0o644)
}

// snapshot lists what the current cluster holds.
func (d *demo) snapshot(ctx context.Context) (snapshot, error) {
	cfg, err := loadKubeconfig(d.kubeconfig(), d.kubeContext())
	if err != nil {
		return snapshot{}, err
	}
	return takeSnapshot(ctx, cfg, readyTimeout)
}
