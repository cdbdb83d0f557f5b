package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/internal/sops"
)

// The Secret the demo encrypts into git, and its key.
const (
	secretNamespace = "web"
	secretName      = "db-credentials"
	secretKey       = "password"
	// secretFile is where it is committed, under the cluster's path.
	secretFile = "web/db-credentials.sops.yaml"
)

// sealed is a Secret encrypted for a new age identity.
type sealed struct {
	// manifest is the encrypted Secret manifest, safe to commit.
	manifest []byte
	// recipient is the identity's public key.
	recipient string
	// keyFile is the identity as age-keygen writes it: never committed.
	keyFile []byte
	// digest is "sha256:<hex>" of the plaintext value, to compare the
	// clusters' Secrets with without printing it.
	digest string
}

// sealSecret makes a new age identity and a random value, and encrypts the
// Secret holding it for the identity, as `capstan secret create … --encrypt`
// and `sops --encrypt --encrypted-regex '^(data|stringData)$'` write it.
func sealSecret(now time.Time) (sealed, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return sealed{}, fmt.Errorf("generating an age key: %w", err)
	}
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return sealed{}, err
	}
	value := hex.EncodeToString(b)
	plain := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\ntype: Opaque\nstringData:\n  %s: %s\n", secretName, secretNamespace, secretKey, value)
	recipient := id.Recipient().String()
	enc, err := sops.Encrypt([]byte(plain), sops.YAML, sops.EncryptOptions{Recipients: []string{recipient}, EncryptedRegex: "^(data|stringData)$", Now: now})
	if err != nil {
		return sealed{}, fmt.Errorf("encrypting the Secret: %w", err)
	}
	return sealed{
		manifest:  enc,
		recipient: recipient,
		keyFile:   fmt.Appendf(nil, "# created: %s\n# public key: %s\n%s\n", now.Format(time.RFC3339), recipient, id),
		digest:    digest([]byte(value)),
	}, nil
}

func digest(value []byte) string {
	h := sha256.Sum256(value)
	return "sha256:" + hex.EncodeToString(h[:])
}

// sealTheSecret generates the age key into the work dir, which the demo
// removes at the end, and encrypts the Secret for it: the files to commit
// beside the example.
func (d *demo) sealTheSecret() (map[string][]byte, error) {
	s, err := sealSecret(time.Now())
	if err != nil {
		return nil, err
	}
	d.keyFile = filepath.Join(d.work, "age.key")
	if err := os.WriteFile(d.keyFile, s.keyFile, 0o600); err != nil {
		return nil, fmt.Errorf("writing the age key: %w", err)
	}
	d.secret = s
	d.results.SecretDigest = s.digest
	return map[string][]byte{path.Join(d.opts.path, secretFile): s.manifest}, nil
}

// secretDigest reads the demo's Secret from the cluster and returns the
// digest of its value ("" when the cluster does not hold it).
func secretDigest(ctx context.Context, c client.Client) (string, error) {
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: secretNamespace, Name: secretName}, s); err != nil {
		return "", client.IgnoreNotFound(err)
	}
	v, ok := s.Data[secretKey]
	if !ok {
		return "", nil
	}
	return digest(v), nil
}
