package bootstrap

import (
	"context"
	"fmt"
	"strings"

	"github.com/capstan-gitops/capstan/clusters"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/components/repo"
	"github.com/capstan-gitops/capstan/internal/checks"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
)

// ensureCluster runs the same preflight as `capstan check --pre`: first
// what this machine needs before the cluster is created (for k3d, Docker),
// then creates or connects to the cluster, then checks it: Kubernetes
// recent enough, rights to install Capstan, a local work directory.
func (r *run) ensureCluster(ctx context.Context) (string, error) {
	if r.deps.Preflight != nil {
		if err := checks.Machine(ctx, r.deps.Preflight).Problem(); err != nil {
			return "", err
		}
	}
	c, err := r.deps.Cluster.Ensure(ctx)
	if err != nil {
		return "", err
	}
	r.cluster = c
	kc, err := kubeclient.ConnectConfig(ctx, c.Config, 0)
	if err != nil {
		return "", err
	}
	if err := checks.Pre(ctx, kc, c.Config.Host, kc.Version).Problem(); err != nil {
		return "", err
	}
	r.client = kc
	verb := "connected to"
	if c.Created {
		verb = "created"
	}
	return fmt.Sprintf("%s %s (Kubernetes %s.%s)", verb, displayName(c), kc.Version.Major, strings.TrimSuffix(kc.Version.Minor, "+")), nil
}

func displayName(c clusters.Cluster) string {
	if c.Context != "" {
		return c.Context
	}
	return c.Name
}

// applyCredentials creates or updates the git credentials Secret. It is
// never written to git nor printed.
// The age key's Secret is applied here too, before Install creates the root
// Sync, so that its very first reconcile decrypts, and the webhook token's
// Secret is kept or made.
func (r *run) applyCredentials(ctx context.Context) (string, error) {
	var stored []string
	if !r.opts.Auth.IsZero() {
		if err := repo.ApplyCredentials(ctx, r.client, r.opts.Auth); err != nil {
			return "", err
		}
		stored = append(stored, manifests.Namespace+"/"+repo.CredentialsSecret)
	}
	if len(r.opts.AgeKey) > 0 {
		if err := repo.ApplyDecryptionKey(ctx, r.client, r.opts.AgeKey); err != nil {
			return "", err
		}
		stored = append(stored, manifests.Namespace+"/"+repo.DecryptionSecret)
	}
	if r.in.Settings.Webhook {
		name, err := r.ensureWebhookToken(ctx)
		if err != nil {
			return "", err
		}
		stored = append(stored, name)
	}
	if len(stored) == 0 {
		return "none needed", nil
	}
	return "secret " + strings.Join(stored, ", secret "), nil
}
