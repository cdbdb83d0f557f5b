package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/sops"
)

// keyring is the age identities of a Sync's decryption Secret and a digest
// of them, which keys the build cache so that a build decrypted with one
// Secret is never served to a Sync with another, or with none.
type keyring struct {
	ids    []age.Identity
	digest string
}

// keyring reads the identities of the Sync's decryption Secret: every value
// whose key ends in .agekey, as Flux reads them. A Sync without decryption
// has an empty keyring. Errors name the Secret and key, never a value.
func (r *Reconciler) keyring(ctx context.Context, s *capstanv1.Sync) (keyring, error) {
	d := s.Spec.Decryption
	if d == nil {
		return keyring{}, nil
	}
	if d.Provider != capstanv1.SOPSProvider {
		return keyring{}, fmt.Errorf("decryption provider %q is not supported (use %q)", d.Provider, capstanv1.SOPSProvider)
	}
	key := client.ObjectKey{Namespace: s.Namespace, Name: d.SecretRef.Name}
	secret := &corev1.Secret{}
	if err := r.Reader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return keyring{}, fmt.Errorf("decryption secret %s not found", key)
		}
		return keyring{}, fmt.Errorf("reading decryption secret %s: %w", key, err)
	}
	names := make([]string, 0, len(secret.Data))
	for k := range secret.Data {
		if strings.HasSuffix(k, capstanv1.AgeKeySuffix) {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return keyring{}, fmt.Errorf("decryption secret %s has no key ending in %s", key, capstanv1.AgeKeySuffix)
	}
	slices.Sort(names)
	h := sha256.New()
	var kr keyring
	for _, n := range names {
		ids, err := sops.ParseIdentities(secret.Data[n])
		if err != nil {
			return keyring{}, fmt.Errorf("decryption secret %s, key %s: %w", key, n, err)
		}
		kr.ids = append(kr.ids, ids...)
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(secret.Data[n])
		h.Write([]byte{0})
	}
	kr.digest = hex.EncodeToString(h.Sum(nil))
	return kr, nil
}

// retryable reports whether a decryption failure may pass without a new
// revision: a key that does not open the file can be fixed in the Secret,
// which the controller does not watch, so it retries.
func retryable(err error) bool {
	return errors.Is(err, sops.ErrNoIdentities) || errors.Is(err, sops.ErrNoMatch)
}

// decryptionHint says what to do about a decryption failure.
func decryptionHint(s *capstanv1.Sync, err error) string {
	switch {
	case errors.Is(err, sops.ErrNoIdentities) && s.Spec.Decryption == nil:
		return "add spec.decryption with a Secret holding the age key, or bootstrap with --age-key-file"
	case errors.Is(err, sops.ErrNoMatch):
		return "add an age identity for one of the file's recipients to the decryption Secret"
	case errors.Is(err, sops.ErrMAC):
		return "the file was changed after it was encrypted: edit it with sops, or encrypt it again"
	}
	return "fix the file in git"
}
