package controller

import (
	"fmt"
	"strings"
	"testing"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/sops"
)

const plaintextPassword = "PLAINTEXT-db-password"

// encryptedSecret is a Secret manifest encrypted for id as
// `sops --encrypt --age … --encrypted-regex '^(data|stringData)$'` writes it.
func encryptedSecret(t *testing.T, id *age.X25519Identity, ns, name string) string {
	t.Helper()
	plain := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\nstringData:\n  password: %s\n", name, ns, plaintextPassword)
	out, err := sops.Encrypt([]byte(plain), sops.YAML, sops.EncryptOptions{Recipients: []string{id.Recipient().String()}, EncryptedRegex: "^(data|stringData)$"})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func withDecryption(secret string) func(*capstanv1.SyncSpec) {
	return func(s *capstanv1.SyncSpec) {
		s.Path = "apps"
		s.Decryption = &capstanv1.Decryption{Provider: capstanv1.SOPSProvider, SecretRef: capstanv1.LocalObjectReference{Name: secret}}
	}
}

// TestDecryptsSOPSSecrets: an encrypted Secret and an encrypted ConfigMap
// are applied with their plaintext values, using the identities of every
// .agekey entry of the decryption Secret.
func TestDecryptsSOPSSecrets(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	id, other := newAgeIdentity(t), newAgeIdentity(t)
	createSecret(t, ns, "sops-age", map[string][]byte{
		"other.agekey": []byte(other.String() + "\n"),
		"main.agekey":  []byte("# created: today\n" + id.String() + "\n"),
		"README":       []byte("not a key"),
	})
	cm, err := sops.Encrypt([]byte(configMap(ns, "settings", "PLAINTEXT-setting")), sops.YAML, sops.EncryptOptions{Recipients: []string{id.Recipient().String()}})
	if err != nil {
		t.Fatal(err)
	}
	r := newRepo(t)
	rev := r.commit(t, map[string]string{"apps/db.yaml": encryptedSecret(t, id, ns, "db"), "apps/cm.yaml": string(cm)})
	r.newSync(t, ns, "apps", withDecryption("sops-age"))
	waitReady(t, ns, "apps", rev)
	s := &corev1.Secret{}
	if err := env.admin.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "db"}, s); err != nil {
		t.Fatal(err)
	}
	if got := string(s.Data["password"]); got != plaintextPassword {
		t.Errorf("password = %q, want the plaintext", got)
	}
	if v := configMapValue(t, ns, "settings"); v != "PLAINTEXT-setting" {
		t.Errorf("settings = %q, want the plaintext", v)
	}
}

// TestDecryptionRefusals: each refusal leaves the Sync Ready=False with
// reason DecryptionFailed, names the file, applies nothing of the
// revision, shows no plaintext; another Sync of the same revision is Ready.
func TestDecryptionRefusals(t *testing.T) {
	t.Parallel()
	owner, stranger := newAgeIdentity(t), newAgeIdentity(t)
	cases := []struct {
		name    string
		secret  map[string][]byte // nil: no Secret
		decrypt bool
		file    func(ns string) string
		want    []string
	}{
		{"no decryption", nil, false, func(ns string) string { return encryptedSecret(t, owner, ns, "db") },
			[]string{"apps/db.yaml", owner.Recipient().String(), "add spec.decryption"}},
		{"no identity opens it", map[string][]byte{"k.agekey": []byte(stranger.String())}, true, func(ns string) string { return encryptedSecret(t, owner, ns, "db") },
			[]string{"apps/db.yaml", "no age identity opens", owner.Recipient().String()}},
		{"MAC mismatch", map[string][]byte{"k.agekey": []byte(owner.String())}, true, func(ns string) string {
			return strings.Replace(encryptedSecret(t, owner, ns, "db"), "name: db", "name: dc", 1)
		}, []string{"apps/db.yaml", "MAC mismatch"}},
		{"malformed sops block", map[string][]byte{"k.agekey": []byte(owner.String())}, true, func(ns string) string {
			return strings.Replace(encryptedSecret(t, owner, ns, "db"), "lastmodified:", "modified:", 1)
		}, []string{"apps/db.yaml", "sops.lastmodified is missing"}},
		{"secret missing", nil, true, func(ns string) string { return encryptedSecret(t, owner, ns, "db") },
			[]string{"decryption secret", "not found"}},
		{"no .agekey entry", map[string][]byte{"key.txt": []byte(owner.String())}, true, func(ns string) string { return encryptedSecret(t, owner, ns, "db") },
			[]string{"no key ending in .agekey"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := env.cluster.Namespace(t)
			if tc.secret != nil {
				createSecret(t, ns, "sops-age", tc.secret)
			}
			r := newRepo(t)
			rev := r.commit(t, map[string]string{
				"apps/db.yaml": tc.file(ns),
				"apps/a.yaml":  configMap(ns, "a", "1"),
				"other/b.yaml": configMap(ns, "b", "1"),
			})
			mutate := func(s *capstanv1.SyncSpec) { s.Path = "apps" }
			if tc.decrypt {
				mutate = withDecryption("sops-age")
			}
			r.newSync(t, ns, "apps", mutate)
			r.newSync(t, ns, "other", func(s *capstanv1.SyncSpec) { s.Path = "other" })
			s := waitFailed(t, ns, "apps", capstanv1.DecryptionFailedReason)
			msg := readyMessage(s)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, plaintextPassword) || strings.Contains(msg, "AGE-SECRET-KEY") {
				t.Errorf("message shows a secret: %q", msg)
			}
			if get(t, configMapGVK, ns, "a") != nil || get(t, schemaGVK("", "v1", "Secret"), ns, "db") != nil {
				t.Error("an object of the refused revision was applied")
			}
			waitReady(t, ns, "other", rev)
		})
	}
}

func newAgeIdentity(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}
