package controller

import (
	"context"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/notify"
)

// Notifier queues notifications about a Sync's results without blocking.
type Notifier interface {
	Notify(key string, targets []notify.Target, ev notify.Event)
}

// notifyEntries are the targets sync reports to: its own spec.notify, or,
// when it has none, the notify setting (NotifySettings), whose Secrets live
// in the setting's namespace. A missing or unreadable setting sends
// nothing and never fails a reconcile.
func (r *Reconciler) notifyEntries(ctx context.Context, sync *capstanv1.Sync) ([]capstanv1.Notify, string) {
	if len(sync.Spec.Notify) > 0 || r.NotifySettings.Name == "" {
		return sync.Spec.Notify, sync.Namespace
	}
	// Read from the manager's cache, which watches only this ConfigMap:
	// no API request on the reconcile path.
	cm := &corev1.ConfigMap{}
	if err := r.Client.Get(ctx, r.NotifySettings, cm); err != nil {
		if client.IgnoreNotFound(err) != nil {
			ctrl.LoggerFrom(ctx).Info("notify setting unavailable", "error", err)
		}
		return nil, ""
	}
	entries, err := manifests.ParseNotify(cm.Data[manifests.NotifySettingKey])
	if err != nil {
		ctrl.LoggerFrom(ctx).Info("notify setting invalid", "configmap", r.NotifySettings.String(), "error", err)
		return nil, ""
	}
	return entries, r.NotifySettings.Namespace
}

// notifyTargets reads the Secrets of entries from namespace. An entry
// whose Secret is missing is sent without a token, which Build refuses
// with a log line: a notification never fails a reconcile.
func (r *Reconciler) notifyTargets(ctx context.Context, entries []capstanv1.Notify, namespace string) []notify.Target {
	targets := make([]notify.Target, 0, len(entries))
	for _, n := range entries {
		t := notify.Target{Type: n.Type, URL: n.URL, Events: n.Events}
		if n.SecretRef != nil {
			secret := &corev1.Secret{}
			key := client.ObjectKey{Namespace: namespace, Name: n.SecretRef.Name}
			if err := r.Reader.Get(ctx, key, secret); err != nil {
				ctrl.LoggerFrom(ctx).Info("notification secret unavailable", "secret", n.SecretRef.Name, "error", client.IgnoreNotFound(err))
			} else {
				t.Token = string(secret.Data["token"])
				if t.URL == "" {
					t.URL = string(secret.Data["address"])
				}
			}
		}
		targets = append(targets, t)
	}
	return targets
}

// notify tells sync's notification targets that revision reached state.
func (r *Reconciler) notify(ctx context.Context, sync *capstanv1.Sync, revision string, state notify.State, msg string) {
	if r.Notifier == nil || revision == "" {
		return
	}
	entries, namespace := r.notifyEntries(ctx, sync)
	if len(entries) == 0 {
		return
	}
	r.Notifier.Notify(string(sync.UID), r.notifyTargets(ctx, entries, namespace), notify.Event{
		Namespace: sync.Namespace, Name: sync.Name, RepoURL: sync.Spec.URL,
		Revision: revision, State: state, Message: msg,
	})
}

// resultState is the notification state of a finished run.
func resultState(o outcome) notify.State {
	switch {
	case o.err == nil:
		return notify.Healthy
	case o.reason == capstanv1.HealthCheckFailedReason:
		return notify.Unhealthy
	}
	return notify.Failed
}

// newNotifier returns the controller's notifier; requests time out after
// 10 s and are retried with notify.DefaultBackoff.
func newNotifier(mgr ctrl.Manager) (*notify.Notifier, error) {
	n := notify.NewNotifier(&http.Client{Timeout: 10 * time.Second}, notify.DefaultBackoff(), mgr.GetLogger().WithName("notify"))
	if err := mgr.Add(n); err != nil {
		return nil, err
	}
	return n, nil
}
