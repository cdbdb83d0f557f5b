package bootstrap

import (
	"context"
	"fmt"
	"io"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/components/repo"
)

// WebhookContentType is the content type to register at the git host.
const WebhookContentType = "application/json"

// webhookInfo is what a person registers at the git host for the root
// Sync's webhook receiver.
type webhookInfo struct {
	// Path is status.webhookPath of the root Sync.
	Path string
	// Token is the new token, set only by the run that generated it: it
	// is printed once and kept only in the cluster.
	Token string
	// HostPort is where this machine reaches the receiver (a k3d host
	// port); 0 when only a tunnel or an Ingress can.
	HostPort int
	// Reused is set when the cluster behind HostPort existed before this
	// run: k3d publishes ports only when it creates a cluster.
	Reused bool
}

// ensureWebhookToken keeps the root Sync's webhook token Secret: an
// existing token is reused, a missing one generated.
func (r *run) ensureWebhookToken(ctx context.Context) (string, error) {
	token, created, err := repo.EnsureWebhookToken(ctx, r.client)
	if err != nil {
		return "", err
	}
	r.webhook = &webhookInfo{Path: capstanv1.WebhookPath(token, repo.RootSyncName, manifests.Namespace)}
	if created {
		r.webhook.Token = token
	}
	if p := r.opts.WebhookHostPort; p > 0 {
		r.webhook.HostPort = p
		r.webhook.Reused = !r.cluster.Created
	}
	return manifests.Namespace + "/" + repo.WebhookSecret, nil
}

// publishedWebhookPath prefers the path the controller published in the
// root Sync's status, which is the one it serves.
func (r *run) publishedWebhookPath(ctx context.Context) {
	root := &capstanv1.Sync{}
	if r.webhook == nil || r.client.Get(ctx, rootKey(), root) != nil || root.Status.WebhookPath == "" {
		return
	}
	r.webhook.Path = root.Status.WebhookPath
}

// write prints what to register at the git host. The token appears only
// when this run generated it.
func (w webhookInfo) write(out io.Writer) {
	fmt.Fprintf(out, "\nWebhook receiver of the root Sync (register it at the git host for push events):\n")
	fmt.Fprintf(out, "  path:          %s\n", w.Path)
	if w.HostPort > 0 {
		local := fmt.Sprintf("http://127.0.0.1:%d", w.HostPort)
		fmt.Fprintf(out, "  local URL:     %s%s (point your tunnel at %s)\n", local, w.Path, local)
		if w.Reused {
			fmt.Fprintf(out, "  (the k3d cluster existed: k3d maps host ports only when it creates one; if the URL does not answer,\n"+
				"   run kubectl -n %s port-forward svc/%s %d:80)\n", manifests.Namespace, manifests.WebhookServiceName, w.HostPort)
		}
	} else {
		fmt.Fprintf(out, "  URL:           https://<your tunnel or ingress to service %s/%s>%s\n", manifests.Namespace, manifests.WebhookServiceName, w.Path)
	}
	fmt.Fprintf(out, "  content type:  %s\n", WebhookContentType)
	if w.Token != "" {
		fmt.Fprintf(out, "  secret:        %s\n", w.Token)
		fmt.Fprintf(out, "  (shown only now; it is kept in Secret %s/%s, never in git)\n", manifests.Namespace, repo.WebhookSecret)
	} else {
		fmt.Fprintf(out, "  secret:        unchanged, in Secret %s/%s (key %s)\n", manifests.Namespace, repo.WebhookSecret, capstanv1.WebhookTokenKey)
	}
}
