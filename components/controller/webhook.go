package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/webhook"
)

// webhookPathIndex indexes Syncs by status.webhookPath in the cache.
const webhookPathIndex = "status.webhookPath"

// webhookSyncs is what the receiver reads and writes: Syncs from the cache,
// their webhook Secrets uncached.
type webhookSyncs struct {
	cache  client.Reader
	reader client.Reader
	writer client.Writer
}

// Lookup finds the Sync that publishes path.
func (s webhookSyncs) Lookup(ctx context.Context, path string) (webhook.Target, bool, error) {
	list := &capstanv1.SyncList{}
	if err := s.cache.List(ctx, list, client.MatchingFields{webhookPathIndex: path}); err != nil {
		return webhook.Target{}, false, fmt.Errorf("listing syncs: %w", err)
	}
	for _, sync := range list.Items {
		if sync.Spec.Webhook == nil || sync.Spec.Suspend || !sync.DeletionTimestamp.IsZero() {
			continue
		}
		ref := sync.Ref()
		return webhook.Target{Name: sync.Name, Namespace: sync.Namespace, Branch: ref.Branch, Tag: ref.Tag}, true, nil
	}
	return webhook.Target{}, false, nil
}

// Token reads the token of the Sync's webhook Secret.
func (s webhookSyncs) Token(ctx context.Context, t webhook.Target) ([]byte, error) {
	sync := &capstanv1.Sync{}
	if err := s.cache.Get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: t.Name}, sync); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	return webhookToken(ctx, s.reader, sync)
}

// RequestSync sets the sync-now annotation, as `capstan reconcile` does.
func (s webhookSyncs) RequestSync(ctx context.Context, name, namespace string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		capstanv1.ReconcileRequestAnnotation: time.Now().UTC().Format(time.RFC3339Nano),
	}}})
	if err != nil {
		return fmt.Errorf("encoding sync request: %w", err)
	}
	obj := &capstanv1.Sync{}
	obj.Name, obj.Namespace = name, namespace
	if err := s.writer.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("requesting sync of %s/%s: %w", namespace, name, err)
	}
	return nil
}

// webhookToken returns the token of sync's webhook Secret, nil when the
// Sync has no webhook or the Secret or its key is missing.
func webhookToken(ctx context.Context, reader client.Reader, sync *capstanv1.Sync) ([]byte, error) {
	if sync.Spec.Webhook == nil {
		return nil, nil
	}
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: sync.Namespace, Name: sync.Spec.Webhook.SecretRef.Name}
	if err := reader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading webhook secret %s: %w", key, err)
	}
	return secret.Data[capstanv1.WebhookTokenKey], nil
}

// webhookPath is the path a full reconcile publishes in status.webhookPath:
// empty without a webhook or a token.
func (r *Reconciler) webhookPath(ctx context.Context, sync *capstanv1.Sync) string {
	token, err := webhookToken(ctx, r.Reader, sync)
	if err != nil || len(token) == 0 {
		if sync.Spec.Webhook != nil {
			log := ctrl.LoggerFrom(ctx)
			log.Info("webhook disabled: its secret or its token key is missing", "secret", sync.Spec.Webhook.SecretRef.Name)
		}
		return ""
	}
	return capstanv1.WebhookPath(string(token), sync.Name, sync.Namespace)
}

// webhookServer serves the receiver on its own port. Every replica serves
// it: a sync request is an annotation the leader sees.
type webhookServer struct {
	addr    string
	handler http.Handler
	log     logr.Logger
}

// NeedLeaderElection is false: the receiver runs on every replica.
func (s *webhookServer) NeedLeaderElection() bool { return false }

// Start serves until ctx is cancelled.
func (s *webhookServer) Start(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.Handle(capstanv1.WebhookPathPrefix, s.handler)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		MaxHeaderBytes:    32 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listening for webhooks on %s: %w", s.addr, err)
	}
	s.log.Info("serving webhooks", "addr", ln.Addr().String())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		return nil
	case err := <-done:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serving webhooks: %w", err)
	}
}

// addWebhook indexes Syncs by webhook path and adds the receiver on addr.
func addWebhook(ctx context.Context, mgr ctrl.Manager, addr string, log logr.Logger) error {
	err := mgr.GetFieldIndexer().IndexField(ctx, &capstanv1.Sync{}, webhookPathIndex, func(o client.Object) []string {
		if s, ok := o.(*capstanv1.Sync); ok && s.Status.WebhookPath != "" {
			return []string{s.Status.WebhookPath}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("indexing syncs by webhook path: %w", err)
	}
	syncs := webhookSyncs{cache: mgr.GetClient(), reader: mgr.GetAPIReader(), writer: mgr.GetClient()}
	h := webhook.NewHandler(syncs, webhook.DefaultLimits(), log.WithName("webhook"))
	if err := mgr.Add(&webhookServer{addr: addr, handler: h, log: log.WithName("webhook")}); err != nil {
		return fmt.Errorf("adding webhook receiver: %w", err)
	}
	return nil
}
