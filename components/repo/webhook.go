package repo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
)

// webhookTokenBytes is the length of a generated webhook token before hex.
const webhookTokenBytes = 32

// EnsureWebhookToken returns the token in the Secret WebhookSecret, and
// creates the Secret with a new random token if it is missing or empty;
// created says which. A token that exists is never replaced, so running
// bootstrap again (or recovering a cluster that still has the Secret)
// keeps the path registered at the git host. The token is never written to
// git.
func EnsureWebhookToken(ctx context.Context, c client.Client) (token string, created bool, err error) {
	key := client.ObjectKey{Namespace: manifests.Namespace, Name: WebhookSecret}
	secret := &corev1.Secret{}
	err = c.Get(ctx, key, secret)
	switch {
	case err == nil && len(secret.Data[capstanv1.WebhookTokenKey]) > 0:
		return string(secret.Data[capstanv1.WebhookTokenKey]), false, nil
	case err != nil && !apierrors.IsNotFound(err):
		return "", false, fmt.Errorf("reading secret %s/%s: %w", key.Namespace, key.Name, err)
	}
	owner := []client.ApplyOption{client.FieldOwner(installManager), client.ForceOwnership}
	if err := c.Apply(ctx, corev1ac.Namespace(manifests.Namespace), owner...); err != nil {
		return "", false, fmt.Errorf("creating namespace %s: %w", manifests.Namespace, err)
	}
	raw := make([]byte, webhookTokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", false, fmt.Errorf("generating the webhook token: %w", err)
	}
	token = hex.EncodeToString(raw)
	if err == nil { // the Secret exists without a token: fill it in
		if secret.Data == nil {
			secret.Data = map[string][]byte{}
		}
		secret.Data[capstanv1.WebhookTokenKey] = []byte(token)
		if err := c.Update(ctx, secret); err != nil {
			return "", false, fmt.Errorf("writing secret %s/%s: %w", key.Namespace, key.Name, err)
		}
		return token, true, nil
	}
	secret = &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace},
		Data:       map[string][]byte{capstanv1.WebhookTokenKey: []byte(token)},
	}
	if err := c.Create(ctx, secret); err != nil {
		if apierrors.IsAlreadyExists(err) {
			// Another bootstrap made it in between: use its token.
			return EnsureWebhookToken(ctx, c)
		}
		return "", false, fmt.Errorf("creating secret %s/%s: %w", key.Namespace, key.Name, err)
	}
	return token, true, nil
}
