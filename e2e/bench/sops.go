//go:build bench

package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/sops"
)

// sopsSecrets is how many of the mix's objects the SOPS scenario encrypts
// (at most a tenth of them).
const sopsSecrets = 100

// measureSOPS runs the first sync and the no-op scenario on e for n objects
// of which sopsSecrets are Secrets SOPS-encrypted for an age key (as
// `sops --encrypt --age … --encrypted-regex '^(data|stringData)$'` writes
// them), synced by a Sync with spec.decryption: t_first_sops and
// t_noop_sops, whose interval reconcile must not decrypt again (the build
// cache serves an unchanged revision) nor rewrite anything.
func measureSOPS(ctx context.Context, e *syncEnv, n int) (figures, error) {
	f := figures{}
	k := min(sopsSecrets, n/10)
	w := newWorkload(n-k, "sops")
	name := "bench-sops"
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return f, err
	}
	files, err := w.files("secure")
	if err != nil {
		return f, err
	}
	ns := w.items[0].Name // the mix's first Namespace
	for i := range k {
		enc, err := encryptedSecret(id, ns, fmt.Sprintf("secret-%03d", i))
		if err != nil {
			return f, err
		}
		files[fmt.Sprintf("secure/%s/secrets/secret-%03d.yaml", ns, i)] = enc
	}
	key := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-age", Namespace: manifests.Namespace},
		Data: map[string][]byte{"bench" + capstanv1.AgeKeySuffix: []byte(id.String() + "\n")}}
	if err := e.admin.Create(ctx, key); err != nil {
		return f, fmt.Errorf("creating the decryption secret: %w", err)
	}
	obs, err := observe(ctx, e.cluster.Config, capstanv1.SyncNameLabel+"="+name)
	if err != nil {
		return f, err
	}
	sw, err := watchSync(ctx, e.cluster.Config, manifests.Namespace, name)
	if err != nil {
		return f, err
	}
	e.srv.InitRepo(e.t, "sops")
	rev := commit(e.t, e.srv, "sops", files, "the mix with encrypted Secrets")
	start := time.Now()
	err = createSyncWith(ctx, e.admin, e.srv, name, "sops", "secure", func(s *capstanv1.SyncSpec) {
		s.Decryption = &capstanv1.Decryption{Provider: capstanv1.SOPSProvider, SecretRef: capstanv1.LocalObjectReference{Name: key.Name}}
	})
	if err != nil {
		return f, err
	}
	ready, err := sw.waitFor(ctx, 0, e.timeout, readyAt(rev))
	if err != nil {
		return f, fmt.Errorf("first sync with encrypted Secrets: %w", err)
	}
	f["t_first_sops_s"] = ready.at.Sub(start).Seconds()
	f["sops_encrypted"], f["sops_objects"] = float64(k), float64(len(w.live())+k)
	noop := figures{}
	if err := e.measureNoop(ctx, noop, sw, obs, w, name, rev); err != nil {
		return f, fmt.Errorf("with encrypted Secrets: %w", err)
	}
	f["t_noop_sops_s"], f["requests_noop_sops"], f["noop_rewritten_sops"] = noop["t_noop_s"], noop["requests_noop"], noop["noop_rewritten"]
	return f, nil
}

// encryptedSecret is a Secret with a random password, encrypted for id.
func encryptedSecret(id *age.X25519Identity, ns, name string) (string, error) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	plain := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\nstringData:\n  password: %s\n", name, ns, hex.EncodeToString(b))
	out, err := sops.Encrypt([]byte(plain), sops.YAML, sops.EncryptOptions{Recipients: []string{id.Recipient().String()}, EncryptedRegex: "^(data|stringData)$"})
	if err != nil {
		return "", fmt.Errorf("encrypting %s: %w", name, err)
	}
	return string(out), nil
}
