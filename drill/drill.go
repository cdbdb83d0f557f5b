package drill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"filippo.io/age"

	"github.com/capstan-gitops/capstan/internal/redact"
	"github.com/capstan-gitops/capstan/internal/sops"

	"github.com/capstan-gitops/capstan/components/repo"
	"github.com/capstan-gitops/capstan/internal/steps"

	"github.com/capstan-gitops/capstan/clusters/kwok"
	"github.com/capstan-gitops/capstan/internal/git"
)

// run is the state one drill shares between its steps.
type run struct {
	opts Options
	ep   git.Endpoint
	// ids are the identities of opts.AgeKey.
	ids     []age.Identity
	workDir string
	start   time.Time
	phases  []Phase

	src      *source
	cluster  *throwaway
	stop     func()
	waiter   *waiter
	timedOut bool
	report   *Report
}

// Run rehearses a disaster recovery of the repository: it clones it, creates
// a throwaway simulated cluster, installs the controller components committed
// in git (or this CLI's when the repository has none), runs the controller
// in this process until every Sync is Ready or opts.Timeout passes, and
// reports what was rebuilt and what kept it from rebuilding. The cluster is
// deleted in every case, Ctrl-C included; nothing is pushed.
//
// The error is a *steps.StepError when a step of the drill itself
// failed (no report then), or a *FailedError, with the report, when the
// repository did not rebuild a fully Ready cluster.
func Run(ctx context.Context, opts Options, reporter steps.Reporter) (*Report, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := kwok.CheckBinaries(opts.BinDir); err != nil {
		return nil, &binariesError{err: err, binDir: opts.BinDir}
	}
	ep, err := git.ParseURL(opts.URL, opts.Insecure)
	if err != nil {
		return nil, err
	}
	workDir, err := newWorkDir(opts.StateDir)
	if err != nil {
		return nil, err
	}
	r := &run{opts: opts, ep: ep, workDir: workDir, start: time.Now()}
	if len(opts.AgeKey) > 0 {
		r.ids, _ = sops.ParseIdentities(opts.AgeKey) // validated above
	}
	err = r.plan().Execute(ctx, reporter)
	if cerr := r.cleanup(ctx, reporter); cerr != nil {
		return nil, errors.Join(err, cerr)
	}
	if err != nil {
		return nil, err
	}
	r.report.TotalSeconds = seconds(time.Since(r.start))
	r.report.Phases = r.phases
	return r.report, r.report.err()
}

func (r *run) plan() steps.Plan {
	plan := []steps.Step{
		{Name: "Repository", Run: r.readRepository, Hint: "check --url, --branch, --path and the credentials (--username with CAPSTAN_GIT_PASSWORD or CAPSTAN_GIT_TOKEN, or --private-key-file with --ssh-known-hosts)"},
		{Name: "Cluster", Run: r.createCluster, Hint: "the simulated control plane did not start; run again, or check the binaries in " + r.opts.BinDir},
		{Name: "Install", Run: r.install, Hint: "the components in git do not apply to an empty cluster: render them again with `capstan install --export > <path>/capstan-system/components.yaml` and commit"},
		{Name: "Controller", Run: r.startController, Hint: "the controller's ServiceAccount comes from <path>/capstan-system; check that its RBAC is committed"},
		{Name: "Converge", Run: r.converge},
		{Name: "Diagnose", Run: r.diagnose},
	}
	for i, s := range plan {
		run := s.Run
		plan[i].Run = func(ctx context.Context) (string, error) {
			t := time.Now()
			note, err := run(ctx)
			r.phases = append(r.phases, Phase{Name: s.Name, Seconds: seconds(time.Since(t))})
			return note, err
		}
	}
	return steps.Plan{Steps: plan}
}

// readRepository clones the branch, finds the cluster's path and the
// components, and builds every Sync's path for the diagnosis.
func (r *run) readRepository(ctx context.Context) (string, error) {
	if err := r.trustHostKey(ctx); err != nil {
		return "", err
	}
	src, err := clone(ctx, r.opts, r.ep, filepath.Join(r.workDir, "repo"))
	if err != nil {
		return "", err
	}
	if err := src.loadComponents(ctx, r.opts); err != nil {
		return "", err
	}
	var rootURLs []string
	for _, o := range src.components {
		if s, ok := syncOf(o); ok {
			rootURLs = append(rootURLs, s.Spec.URL)
		}
	}
	src.syncs = buildTree(ctx, src.dir, src.components, sameSource(r.opts.Branch, append(rootURLs, r.opts.URL)...), r.ids)
	src.files = indexFiles(src.dir)
	if src.sealed, err = findSealed(src.dir, src.syncs); err != nil {
		return "", err
	}
	r.src = src
	where := path.Join(src.path, repo.DirName)
	if !src.fromGit {
		where = "none in git, using this CLI's"
	}
	return fmt.Sprintf("%s, path %s (components: %s)", src.revision, src.path, where), nil
}

// trustHostKey completes SSH credentials without known_hosts when the
// user accepts the server's host key.
func (r *run) trustHostKey(ctx context.Context) error {
	a := &r.opts.Auth
	if r.ep.Scheme() != "ssh" || len(a.KnownHosts) > 0 {
		return nil
	}
	hk, err := git.ScanHostKey(ctx, r.ep)
	if err != nil {
		return err
	}
	if !r.opts.AcceptHostKey {
		return fmt.Errorf("the ssh host key of %s is %s: check it with the git host, then pass --accept-host-key (or --ssh-known-hosts FILE)", r.ep.Host(), hk.Fingerprint)
	}
	a.KnownHosts = hk.KnownHosts
	return nil
}

func (r *run) createCluster(ctx context.Context) (string, error) {
	t, err := newThrowaway(r.opts.BinDir, r.workDir)
	if err != nil {
		return "", err
	}
	r.cluster = t
	if err := t.create(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf("created %s (Kubernetes %s, simulated nodes)", t.provider.Context(), t.version), nil
}

func (r *run) install(ctx context.Context) (string, error) {
	if err := r.cluster.install(ctx, r.src.components, r.opts); err != nil {
		return "", err
	}
	from := path.Join(r.src.path, repo.DirName) + " in git"
	if !r.src.fromGit {
		from = "this CLI's components: the repository has no " + path.Join(r.src.path, repo.DirName)
	}
	return fmt.Sprintf("%d objects from %s", len(r.src.components), from), nil
}

func (r *run) startController(ctx context.Context) (string, error) {
	ns, sa := controllerAccount(r.src.components)
	stop, err := r.cluster.runController(ctx, r.opts, r.workDir, ns, sa)
	if err != nil {
		return "", err
	}
	r.stop = stop
	return fmt.Sprintf("running in this process as ServiceAccount %s/%s", ns, sa), nil
}

// converge waits for the Syncs; not converging is the report's to tell,
// not an error of the step.
func (r *run) converge(ctx context.Context) (string, error) {
	r.waiter = newWaiter(r.cluster.client, doomedSyncs(r.src.syncs))
	wctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	_, timedOut, err := r.waiter.wait(wctx)
	if err != nil {
		return "", err
	}
	if timedOut && ctx.Err() != nil {
		return "", ctx.Err()
	}
	r.timedOut = timedOut
	nReady, total := 0, 0
	for _, ls := range r.waiter.results() {
		total++
		if ls.phase == ready {
			nReady++
		}
	}
	note := fmt.Sprintf("%d of %d Syncs Ready", nReady, total)
	if timedOut {
		note += fmt.Sprintf(" at the timeout (%s)", r.opts.Timeout)
	}
	return note, nil
}

// diagnose reads the cluster and assembles the report.
func (r *run) diagnose(ctx context.Context) (string, error) {
	live := r.waiter.results()
	notReady := map[string]bool{}
	for _, ls := range live {
		if ls.phase != ready {
			notReady[ls.sync.Namespace+"/"+ls.sync.Name] = true
		}
	}
	for _, s := range r.src.syncs {
		if _, seen := r.waiter.syncs[s.Key()]; !seen {
			notReady[s.Key()] = true
		}
	}
	f, err := inspect(ctx, r.cluster.cluster.Config, r.cluster.client, r.src.syncs, notReady)
	if err != nil {
		return "", err
	}
	head := Report{
		Repository: redact.URL(r.opts.URL), Branch: r.opts.Branch, Path: r.src.path, Revision: string(r.src.revision),
		Components: r.components(), TimedOut: r.timedOut, ConvergeSeconds: seconds(r.waiter.took), Claims: f.claims,
	}
	problems := append(diagnose(r.src.syncs, f, r.src.files, notReady), sealedProblems(r.src.sealed, r.ids)...)
	r.report = assemble(head, live, r.src.syncs, problems)
	if len(r.report.Problems) == 0 {
		return "no problems", nil
	}
	return fmt.Sprintf("%d problems", len(r.report.Problems)), nil
}

// cleanup stops the controller and deletes the cluster and the work dir.
func (r *run) cleanup(ctx context.Context, reporter steps.Reporter) error {
	if r.cluster == nil {
		if err := os.RemoveAll(r.workDir); err != nil {
			return fmt.Errorf("removing %s: %w", r.workDir, err)
		}
		return nil
	}
	reporter.Start("Cleanup")
	t := time.Now()
	if r.stop != nil {
		r.stop()
	}
	// The state stays when the cluster could not be deleted: kwokctl needs
	// it to stop the cluster's processes.
	err := r.cluster.delete(ctx)
	if err == nil {
		if rmErr := os.RemoveAll(r.workDir); rmErr != nil {
			err = fmt.Errorf("removing %s: %w", r.workDir, rmErr)
		}
	}
	r.phases = append(r.phases, Phase{Name: "Cleanup", Seconds: seconds(time.Since(t))})
	if err != nil {
		reporter.Fail("Cleanup", err, time.Since(t))
		return &cleanupError{err: err, workDir: r.workDir}
	}
	reporter.Done("Cleanup", "deleted "+r.cluster.provider.Context(), time.Since(t))
	return nil
}

// components describes what the Install step installed.
func (r *run) components() Components {
	c := Components{FromGit: r.src.fromGit, Version: componentsVersion(r.src.components), Controller: r.opts.CLIVersion}
	c.Source = path.Join(r.src.path, repo.DirName)
	if !c.FromGit {
		c.Source = "capstan " + r.opts.CLIVersion
	}
	return c
}

// cleanupError is a throwaway cluster the drill could not delete.
type cleanupError struct {
	err     error
	workDir string
}

func (e *cleanupError) Error() string { return "cleanup: " + e.err.Error() }
func (e *cleanupError) Unwrap() error { return e.err }

// Hint says how to remove what is left.
func (e *cleanupError) Hint() string {
	return "the cluster's state is under " + e.workDir + ": run `KWOK_WORKDIR=" + e.workDir + " kwokctl get clusters` and `kwokctl delete cluster --name NAME`, then remove the directory"
}
