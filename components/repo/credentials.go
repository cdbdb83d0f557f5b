package repo

import (
	"context"
	"fmt"

	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/apply"
	"github.com/capstan-gitops/capstan/internal/git"
)

// installManager is the field manager of what an install writes outside git
// (the namespace it needs first, the credentials Secret), so that it never
// takes fields away from the controller's own manager.
const installManager = "capstan-bootstrap"

// RootOwner marks installed objects as the root Sync's, so that the
// controller adopts them at its first reconcile.
func RootOwner() apply.Owner {
	return apply.Owner{FieldManager: capstanv1.FieldManager, Labels: map[string]string{
		capstanv1.SyncNameLabel:      RootSyncName,
		capstanv1.SyncNamespaceLabel: manifests.Namespace,
	}}
}

// ApplyCredentials creates or updates the Secret CredentialsSecret, and the
// namespace it lives in, with auth laid out as the controller reads it. The
// Secret is never written to git nor printed.
func ApplyCredentials(ctx context.Context, c client.Client, auth git.Auth) error {
	owner := []client.ApplyOption{client.FieldOwner(installManager), client.ForceOwnership}
	if err := c.Apply(ctx, corev1ac.Namespace(manifests.Namespace), owner...); err != nil {
		return fmt.Errorf("creating namespace %s: %w", manifests.Namespace, err)
	}
	secret := corev1ac.Secret(CredentialsSecret, manifests.Namespace).WithData(git.SecretData(auth))
	if err := c.Apply(ctx, secret, owner...); err != nil {
		return fmt.Errorf("writing secret %s/%s: %w", manifests.Namespace, CredentialsSecret, err)
	}
	return nil
}

// ApplyDecryptionKey creates or updates the Secret DecryptionSecret with
// the age identities key (an age-keygen file), which the root Sync
// decrypts with. The Secret is never written to git nor printed.
func ApplyDecryptionKey(ctx context.Context, c client.Client, key []byte) error {
	owner := []client.ApplyOption{client.FieldOwner(installManager), client.ForceOwnership}
	if err := c.Apply(ctx, corev1ac.Namespace(manifests.Namespace), owner...); err != nil {
		return fmt.Errorf("creating namespace %s: %w", manifests.Namespace, err)
	}
	secret := corev1ac.Secret(DecryptionSecret, manifests.Namespace).WithData(map[string][]byte{AgeKeyEntry: key})
	if err := c.Apply(ctx, secret, owner...); err != nil {
		return fmt.Errorf("writing secret %s/%s: %w", manifests.Namespace, DecryptionSecret, err)
	}
	return nil
}
