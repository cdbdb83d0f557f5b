// Package bootstrap is the `capstan bootstrap` command: it turns options into
// a plan of named steps (Repository, [Age key], Cluster, Preflight, Git,
// [Image], Credentials, Install, Sync) and runs it. Every step checks
// before it acts, so running the same plan again converges and changes
// nothing.
package bootstrap

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/capstan-gitops/capstan/components/repo"
	"github.com/capstan-gitops/capstan/internal/checks"
	"github.com/capstan-gitops/capstan/internal/steps"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/clusters"
	"github.com/capstan-gitops/capstan/internal/git"
	"github.com/capstan-gitops/capstan/internal/sops"
)

// Options are the inputs of one bootstrap.
type Options struct {
	// URL, Branch and Path locate the cluster's configuration in git.
	URL, Branch, Path string
	// Insecure allows plain http to a host that is not loopback.
	Insecure bool
	// Auth reaches the repository; it is stored in the cluster as a Secret,
	// never in git.
	Auth git.Auth
	// Author signs bootstrap's commits.
	Author git.Signature
	// Flags are the install settings given on the command line.
	Flags repo.Flags
	// CLIVersion is the running CLI's version.
	CLIVersion string
	// Timeout bounds the wait for the controller and the root Sync.
	Timeout time.Duration
	// DryRun prints the plan and the files and changes nothing.
	DryRun bool
	// AcceptHostKey trusts the SSH host key the server shows when neither
	// KnownHosts nor the cluster holds one.
	AcceptHostKey bool
	// AgeKey is an age identity file (as age-keygen writes it): stored in
	// the cluster as the Secret the root Sync decrypts SOPS-encrypted files
	// with, before the root Sync first runs; never in git.
	AgeKey []byte
	// WebhookHostPort is the host port a k3d cluster publishes the webhook
	// receiver on (Flags.WebhookNodePort); 0 when there is none. It only
	// shapes the printed URL.
	WebhookHostPort int
	// GenerateAgeKey, if set, is the file a new age identity is written
	// to (never over an existing file) and used as AgeKey; a .sops.yaml
	// rule for Path with its recipient is committed. Exclusive with AgeKey.
	GenerateAgeKey string
	// ControllerBinary is the static linux executable put into the
	// controller image when Deps.Images is set (default: this executable).
	ControllerBinary string
}

// ClusterEnsurer creates or connects to the target cluster.
type ClusterEnsurer interface {
	Ensure(ctx context.Context) (clusters.Cluster, error)
}

// Deps are the effects a bootstrap uses, injected by the caller.
type Deps struct {
	Cluster ClusterEnsurer
	// Reporter shows progress (a steps.Printer on stderr).
	Reporter steps.Reporter
	// Out receives the result (and the --dry-run plan).
	Out io.Writer
	// Images loads the controller image into the cluster's nodes when the
	// cluster cannot pull it (k3d); nil skips the image step.
	Images ImageImporter
	// Preflight checks this machine before the cluster is created or
	// reached (k3d: Docker), as `capstan check --pre` does; nil checks nothing.
	Preflight checks.Prober
}

// run is the state one bootstrap shares between its steps.
type run struct {
	opts Options
	deps Deps

	ep       git.Endpoint
	workDir  string
	wt       *git.Worktree
	in       repo.Input
	files    map[string][]byte
	revision string
	cluster  clusters.Cluster
	client   client.Client
	// generatedKey is the public half of a deploy key made by this run.
	generatedKey string
	// webhook is what to register at the git host, with --webhook.
	webhook *webhookInfo
	// ageRecipient is the public key of a generated age key.
	ageRecipient string
	// sopsConfig is the .sops.yaml to commit for a generated age key, nil
	// if the repository's already encrypts for it.
	sopsConfig []byte
}

// Run bootstraps: repository, age key (generated only), cluster,
// preflight, git, image (k3d only), credentials, install, sync.
func Run(ctx context.Context, opts Options, deps Deps) error {
	if err := opts.validate(); err != nil {
		return err
	}
	var recipient string
	if opts.GenerateAgeKey != "" {
		key, pub, err := newAgeKey(opts.GenerateAgeKey, time.Now())
		if err != nil {
			return err
		}
		opts.AgeKey, recipient = key, pub
	}
	ep, err := git.ParseURL(opts.URL, opts.Insecure)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "capstan-bootstrap-")
	if err != nil {
		return fmt.Errorf("creating work dir: %w", err)
	}
	defer os.RemoveAll(dir)
	r := &run{opts: opts, deps: deps, ep: ep, workDir: dir, ageRecipient: recipient}
	if opts.DryRun {
		return r.dryRun(ctx)
	}
	if err := r.plan().Execute(ctx, deps.Reporter); err != nil {
		return err
	}
	if r.webhook != nil {
		r.publishedWebhookPath(ctx)
		r.webhook.write(deps.Out)
	}
	return nil
}

// authHint is what to check when the repository cannot be read or pushed.
const authHint = "check --url and the credentials (--username with CAPSTAN_GIT_PASSWORD or CAPSTAN_GIT_TOKEN, or --private-key-file with --ssh-known-hosts); they need push access"

func (r *run) plan() steps.Plan {
	plan := []steps.Step{{Name: "Repository", Run: r.checkRepository, Hint: authHint}}
	if r.opts.GenerateAgeKey != "" {
		plan = append(plan, steps.Step{Name: "Age key", Run: r.writeAgeKey, Hint: "choose a --generate-age-key file in a directory you can write to"})
	}
	plan = append(plan,
		steps.Step{Name: "Cluster", Run: r.ensureCluster, Hint: "check that the cluster runs and --kubeconfig/--context point at it, or create one with --k3d NAME or --kwok NAME"},
		steps.Step{Name: "Preflight", Run: r.preflight, Hint: authHint},
		steps.Step{Name: "Git", Run: r.commitAndPush, Hint: "check push access to the branch; nothing was installed, run the same command again"},
	)
	if r.deps.Images != nil {
		plan = append(plan, steps.Step{Name: "Image", Run: r.importImage, Hint: "pass --image with a registry image the cluster can pull"})
	}
	resume := "run the same command again: bootstrap resumes where it stopped"
	plan = append(plan,
		steps.Step{Name: "Credentials", Run: r.applyCredentials, Hint: resume},
		steps.Step{Name: "Install", Run: r.install, Hint: "see `kubectl -n capstan-system get deploy,pods` and the controller's logs; " + resume},
		steps.Step{Name: "Sync", Run: r.syncNow, Hint: "see `kubectl -n capstan-system get syncs` and the controller's logs; " + resume},
	)
	return steps.Plan{Steps: plan}
}

func (o Options) validate() error {
	switch {
	case o.URL == "":
		return fmt.Errorf("a repository URL is required (--url)")
	case o.Branch == "":
		return fmt.Errorf("a branch is required (--branch)")
	case o.Path == "" || o.Path == "." || o.Path[0] == '/':
		return fmt.Errorf("--path must be a directory inside the repository, such as clusters/dwk")
	}
	if o.GenerateAgeKey != "" && len(o.AgeKey) > 0 {
		return fmt.Errorf("--generate-age-key and --age-key-file (or CAPSTAN_AGE_KEY_FILE, SOPS_AGE_KEY_FILE) are exclusive: generate a new key or use one")
	}
	if len(o.AgeKey) > 0 {
		if _, err := sops.ParseIdentities(o.AgeKey); err != nil {
			return fmt.Errorf("the age key file: %w", err)
		}
	}
	return nil
}
