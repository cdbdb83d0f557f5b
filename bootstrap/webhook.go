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
	// HostURL is where this machine reaches the receiver (a k3d host
	// port); empty when only a tunnel or an Ingress can.
	HostURL string
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
		r.webhook.HostURL = fmt.Sprintf("http://127.0.0.1:%d", p)
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
	if w.HostURL != "" {
		fmt.Fprintf(out, "  local URL:     %s%s (point your tunnel at %s)\n", w.HostURL, w.Path, w.HostURL)
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
