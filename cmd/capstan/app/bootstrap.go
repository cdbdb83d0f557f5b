package app

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/capstan-gitops/capstan/components/repo"
	"github.com/capstan-gitops/capstan/internal/kubeconfig"
	"github.com/capstan-gitops/capstan/internal/steps"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/capstan-gitops/capstan/bootstrap"
	"github.com/capstan-gitops/capstan/clusters/existing"
	"github.com/capstan-gitops/capstan/clusters/k3d"
	"github.com/capstan-gitops/capstan/clusters/kwok"
	"github.com/capstan-gitops/capstan/internal/git"
	"github.com/capstan-gitops/capstan/internal/version"
)

func newBootstrapCommand() *cli.Command {
	return &cli.Command{
		Name:      "bootstrap",
		Usage:     "create or connect to a cluster, install Capstan, and commit it to git",
		UsageText: "capstan bootstrap --url URL [--path clusters/NAME] [--k3d NAME | --kwok NAME | --kubeconfig FILE [--context CTX]] [credentials]",
		Flags:     bootstrapFlags(),
		Action: func(c *cli.Context) error {
			opts, err := bootstrapOptions(c)
			if err != nil {
				return err
			}
			deps, err := clusterDeps(c)
			if err != nil {
				return err
			}
			stderr := c.App.ErrWriter
			tty := isTerminal(stderr)
			printer := steps.NewPrinter(stderr, steps.PrinterOptions{TTY: tty, Color: tty && os.Getenv("NO_COLOR") == ""})
			defer routeLibraryLogs(printer.Sub, c.Bool("verbose"))()
			deps.Reporter, deps.Out = printer, c.App.Writer
			return withVerbose(c, bootstrap.Run(c.Context, opts, deps))
		},
	}
}

func bootstrapFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "url", Usage: "cluster-config repository (https://, ssh:// or git@host:path), or a local clone of it (its origin is used)", Required: true},
		&cli.StringFlag{Name: "branch", Value: "main", Usage: "branch to commit to and sync from"},
		&cli.StringFlag{Name: "path", Usage: "directory of this cluster in the repository (default clusters/<cluster name>)"},
		&cli.StringFlag{Name: "k3d", Usage: "create or reuse a k3d cluster with this name (needs Docker)"},
		&cli.IntFlag{Name: "agents", Usage: "k3d agent nodes besides the server"},
		&cli.StringFlag{Name: "k3s-image", Usage: "k3s node image for --k3d (default " + k3d.DefaultImage + ")"},
		&cli.StringFlag{Name: "k3d-config", Usage: "k3d.io/v1alpha5 Simple config file for --k3d"},
		&cli.StringFlag{Name: "kwok", Usage: "create or reuse a simulated kwok cluster with this name"},
		&cli.StringFlag{Name: "kubeconfig", Usage: "use the existing cluster of this kubeconfig (default $KUBECONFIG, ~/.kube/config)"},
		&cli.StringFlag{Name: "context", Usage: "kubeconfig context of the existing cluster"},
		&cli.DurationFlag{Name: "interval", Usage: "how often the root Sync reconciles (default 1m, or what the repository stores)"},
		&cli.StringFlag{Name: "author-name", Value: "capstan", Usage: "author of bootstrap's commits"},
		&cli.StringFlag{Name: "author-email", Value: "capstan@users.noreply.capstan.dev", Usage: "email of bootstrap's commits"},
		&cli.StringFlag{Name: "version", Usage: "controller version to install (default: this CLI's, or the repository's if newer)"},
		&cli.StringFlag{Name: "image", Usage: "controller image (default ghcr.io/capstan-gitops/capstan:<version>)"},
		&cli.StringFlag{Name: "log-level", Usage: "controller log level: debug, info or error"},
		&cli.DurationFlag{Name: "timeout", Value: 5 * time.Minute, Usage: "how long to wait for the controller and the first sync"},
		&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and the files; change nothing"},
		&cli.BoolFlag{Name: "webhook", Usage: "serve the root Sync's push webhook: a token kept in the cluster (printed once) and the path and content type to register at the git host"},
		&cli.IntFlag{Name: "webhook-port", Value: defaultWebhookHostPort, Usage: "with --webhook --k3d: the host port a new k3d cluster maps to the receiver, for a tunnel to reach"},
		ageKeyFileFlag("age identity file (age-keygen) that decrypts the repository's SOPS-encrypted files; stored in the cluster, never in git"),
		&cli.StringFlag{Name: "generate-age-key", Usage: "write a new age key to this file (mode 0600, never over an existing file), use it as --age-key-file does, and commit a .sops.yaml rule that encrypts --path's files for it"},
		verboseFlag("show every line the libraries log (k3d, Docker) and the full error"),
	}
	return append(flags, gitCredentialFlags("SSH private key for the repository (default: the stored one, or a new deploy key that is printed)")...)
}

// gitCredentialFlags are the repository credentials gitAuth reads, as
// bootstrap and drill take them; keyUsage describes --private-key-file.
func gitCredentialFlags(keyUsage string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "private-key-file", Usage: keyUsage},
		&cli.StringFlag{Name: "ssh-known-hosts", Usage: "known_hosts file with the SSH host key of the repository"},
		&cli.BoolFlag{Name: "accept-host-key", Usage: "trust the SSH host key the server shows (when no known_hosts is given or stored)"},
		&cli.StringFlag{Name: "username", Usage: "HTTPS user name", Value: "git"},
		&cli.StringFlag{Name: "password", Usage: "HTTPS password (prefer CAPSTAN_GIT_PASSWORD)", EnvVars: []string{"CAPSTAN_GIT_PASSWORD"}},
		&cli.StringFlag{Name: "token", Usage: "HTTPS token (prefer CAPSTAN_GIT_TOKEN)", EnvVars: []string{"CAPSTAN_GIT_TOKEN"}},
		&cli.BoolFlag{Name: "insecure", Usage: "allow plain http:// to a host that is not loopback"},
	}
}

func bootstrapOptions(c *cli.Context) (bootstrap.Options, error) {
	auth, err := gitAuth(c)
	if err != nil {
		return bootstrap.Options{}, err
	}
	path := c.String("path")
	if path == "" {
		path = "clusters/" + clusterName(c)
	}
	url, err := repositoryURL(c.String("url"))
	if err != nil {
		return bootstrap.Options{}, err
	}
	if p := webhookHostPort(c); p > 65535 || (p < 1 && webhookNodePort(c) > 0) {
		return bootstrap.Options{}, fmt.Errorf("--webhook-port %d is not a port", c.Int("webhook-port"))
	}
	var ageKey []byte
	if f := c.String("age-key-file"); f != "" {
		if ageKey, err = os.ReadFile(f); err != nil {
			return bootstrap.Options{}, fmt.Errorf("reading --age-key-file: %w", err)
		}
	}
	return bootstrap.Options{
		AgeKey: ageKey, GenerateAgeKey: c.String("generate-age-key"),
		URL: url, Branch: c.String("branch"), Path: path, Insecure: c.Bool("insecure"),
		Auth:            auth,
		Author:          git.Signature{Name: c.String("author-name"), Email: c.String("author-email")},
		Flags:           repo.Flags{Version: c.String("version"), Image: c.String("image"), LogLevel: c.String("log-level"), Interval: c.Duration("interval"), Webhook: c.Bool("webhook"), WebhookNodePort: webhookNodePort(c)},
		WebhookHostPort: webhookHostPort(c),
		CLIVersion:      labelSafe(version.Get().Version),
		Timeout:         c.Duration("timeout"),
		AcceptHostKey:   c.Bool("accept-host-key"),
		DryRun:          c.Bool("dry-run"),
	}, nil
}

// defaultWebhookHostPort is the host port --webhook --k3d publishes the
// receiver on, unless --webhook-port says otherwise.
const defaultWebhookHostPort = 9292

// k3dWebhookNodePort is the node port of the webhook Service that a k3d
// cluster's load balancer maps the host port to.
const k3dWebhookNodePort int32 = 32292

// webhookNodePort is the node port of the receiver with --webhook --k3d; 0
// otherwise (the Service stays inside the cluster).
func webhookNodePort(c *cli.Context) int32 {
	if c.Bool("webhook") && c.String("k3d") != "" {
		return k3dWebhookNodePort
	}
	return 0
}

// webhookHostPort is the host port of the receiver with --webhook --k3d.
func webhookHostPort(c *cli.Context) int {
	if webhookNodePort(c) == 0 {
		return 0
	}
	return c.Int("webhook-port")
}

// repositoryURL turns a local clone into its origin URL, which the cluster
// can reach; anything else is taken as a URL.
func repositoryURL(arg string) (string, error) {
	if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
		return git.OriginURL(arg)
	}
	return arg, nil
}

// gitAuth reads the credentials the flags point at.
func gitAuth(c *cli.Context) (git.Auth, error) {
	var a git.Auth
	if f := c.String("private-key-file"); f != "" {
		key, err := os.ReadFile(f)
		if err != nil {
			return a, fmt.Errorf("reading --private-key-file: %w", err)
		}
		a.Identity = key
	}
	if f := c.String("ssh-known-hosts"); f != "" {
		kh, err := os.ReadFile(f)
		if err != nil {
			return a, fmt.Errorf("reading --ssh-known-hosts: %w", err)
		}
		a.KnownHosts = kh
	}
	if c.String("password") != "" {
		a.Username, a.Password = c.String("username"), c.String("password")
	}
	if c.String("token") != "" {
		a.BearerToken = c.String("token")
	}
	return a, nil
}

// clusterName names the cluster for the default --path.
func clusterName(c *cli.Context) string {
	for _, flag := range []string{"k3d", "kwok"} {
		if n := c.String(flag); n != "" {
			return n
		}
	}
	if ctx := c.String("context"); ctx != "" {
		return strings.TrimPrefix(strings.TrimPrefix(ctx, "k3d-"), "kwok-")
	}
	return "default"
}

// clusterDeps picks the cluster provider from the flags, the image
// importer for clusters that cannot pull the controller image (k3d), and
// the preflight of this machine before the cluster is created (k3d).
func clusterDeps(c *cli.Context) (bootstrap.Deps, error) {
	if c.String("k3d") != "" && c.String("kwok") != "" {
		return bootstrap.Deps{}, errors.New("--k3d and --kwok are exclusive: choose one cluster")
	}
	if c.String("k3d") != "" {
		p := k3dProvider(c)
		return bootstrap.Deps{Cluster: p, Images: p, Preflight: p}, nil
	}
	if name := c.String("kwok"); name != "" {
		p, err := kwok.New(kwok.Options{Name: name, Kubeconfig: c.String("kubeconfig")})
		return bootstrap.Deps{Cluster: p}, err
	}
	return bootstrap.Deps{Cluster: existing.New(existing.Options{Kubeconfig: c.String("kubeconfig"), Context: c.String("context")})}, nil
}

// k3dProvider is the k3d cluster the --k3d flags describe.
func k3dProvider(c *cli.Context) *k3d.Provider {
	opts := k3d.Options{Name: c.String("k3d"), Image: c.String("k3s-image"), Agents: c.Int("agents"), ConfigFile: c.String("k3d-config"), Kubeconfig: k3dKubeconfig(c)}
	if port := webhookHostPort(c); port > 0 {
		opts.Ports = []k3d.PortMapping{{HostPort: port, NodePort: k3dWebhookNodePort}}
	}
	return k3d.New(opts)
}

// k3dKubeconfig is the file the k3d-<name> context is merged into: the
// flag's, or the user's own, the way k3d does.
func k3dKubeconfig(c *cli.Context) string {
	if kc := c.String("kubeconfig"); kc != "" {
		return kc
	}
	return kubeconfig.DefaultPath()
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
