package build

import (
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/capstan-gitops/capstan/internal/sops"
)

const encSecret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: app\nstringData:\n  password: PLAINTEXT-pw\n"

// encrypted encrypts plain (a file named name) for id, as sops would.
func encrypted(t *testing.T, id *age.X25519Identity, name, plain, regex string) string {
	t.Helper()
	out, err := sops.Encrypt([]byte(plain), sops.FormatOf(name), sops.EncryptOptions{Recipients: []string{id.Recipient().String()}, EncryptedRegex: regex})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestBuildDecrypts: encrypted manifests of a plain directory, encrypted
// resources of a kustomization and encrypted secretGenerator sources are
// decrypted; the checkout keeps its ciphertext.
func TestBuildDecrypts(t *testing.T) {
	t.Parallel()
	id, _ := age.GenerateX25519Identity()
	regex := "^(data|stringData)$"
	cases := []struct {
		name  string
		files map[string]string
		dir   string
		want  map[string]string // object id -> "field=value" found in it
	}{
		{"plain directory", map[string]string{
			"apps/secret.yaml": encrypted(t, id, "secret.yaml", encSecret, regex),
			"apps/cm.yaml":     cm("plain"),
			"apps/conf.json":   encrypted(t, id, "conf.json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"enc-cm"},"data":{"k":"PLAINTEXT-cm"}}`, ""),
		}, "apps", map[string]string{"Secret app/db": "password=PLAINTEXT-pw", "ConfigMap enc-cm": "k=PLAINTEXT-cm"}},
		{"kustomize resources and generators", map[string]string{
			"k/kustomization.yaml": "resources: [secret.yaml]\nsecretGenerator:\n- name: gen\n  envs: [app.env]\n  files: [tls.key]\ngeneratorOptions:\n  disableNameSuffixHash: true\n",
			"k/secret.yaml":        encrypted(t, id, "secret.yaml", encSecret, regex),
			"k/app.env":            encrypted(t, id, "app.env", "TOKEN=PLAINTEXT-env\n", ""),
			"k/tls.key":            encrypted(t, id, "tls.key", "PLAINTEXT-key", ""),
		}, "k", map[string]string{"Secret app/db": "password=PLAINTEXT-pw", "Secret gen": "TOKEN=UExBSU5URVhULWVudg==,tls.key=UExBSU5URVhULWtleQ=="}},
		{"secretGenerator over an encrypted INI file", map[string]string{
			"k/kustomization.yaml": "secretGenerator:\n- name: ini\n  files: [app.ini]\ngeneratorOptions:\n  disableNameSuffixHash: true\n",
			"k/app.ini":            encrypted(t, id, "app.ini", "[db]\npassword=PLAINTEXT-ini\n", ""),
		}, "k", map[string]string{"Secret ini": "app.ini=W2RiXQpwYXNzd29yZCA9IFBMQUlOVEVYVC1pbmkK"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := writeTree(t, tc.files)
			objs, _, err := BuildWith(t.Context(), root, tc.dir, Options{Identities: []age.Identity{id}})
			if err != nil {
				t.Fatal(err)
			}
			found := map[string]bool{}
			for _, o := range objs {
				if _, ok := o.Object["sops"]; ok {
					t.Errorf("%s still has its sops block", keyOf(o))
				}
				want, ok := tc.want[keyOf(o).String()]
				if !ok {
					continue
				}
				found[keyOf(o).String()] = true
				for _, kv := range strings.Split(want, ",") {
					k, v, _ := strings.Cut(kv, "=")
					got := ""
					for _, field := range []string{"stringData", "data"} {
						if m, ok := o.Object[field].(map[string]any); ok {
							if s, ok := m[k].(string); ok {
								got = s
							}
						}
					}
					if got != v {
						t.Errorf("%s: %s = %q, want %q", keyOf(o), k, got, v)
					}
				}
			}
			if len(found) != len(tc.want) {
				t.Errorf("found %v of %v", found, tc.want)
			}
		})
	}
}

// TestBuildRefusesWhatItCannotDecrypt: an encrypted file is an error naming
// the file (never ciphertext built as it is): without identities, with
// identities that do not open it, with a changed value.
func TestBuildRefusesWhatItCannotDecrypt(t *testing.T) {
	t.Parallel()
	owner, _ := age.GenerateX25519Identity()
	other, _ := age.GenerateX25519Identity()
	enc := encrypted(t, owner, "secret.yaml", encSecret, "^(data|stringData)$")
	cases := []struct {
		name     string
		files    map[string]string
		dir      string
		ids      []age.Identity
		file     string
		msg      string
		sentinel error
	}{
		{"no decryption", map[string]string{"a/s.yaml": enc, "a/cm.yaml": cm("x")}, "a", nil, "a/s.yaml", owner.Recipient().String(), sops.ErrNoIdentities},
		{"wrong identity", map[string]string{"a/s.yaml": enc}, "a", []age.Identity{other}, "a/s.yaml", owner.Recipient().String(), sops.ErrNoMatch},
		{"tampered", map[string]string{"a/s.yaml": strings.Replace(enc, "name: db", "name: dc", 1)}, "a", []age.Identity{owner}, "a/s.yaml", "MAC mismatch", sops.ErrMAC},
		{"kustomize, no decryption", map[string]string{"k/kustomization.yaml": "resources: [s.yaml]\n", "k/s.yaml": enc}, "k", nil, "k/s.yaml", "no age key", sops.ErrNoIdentities},
		{"generator env, wrong identity", map[string]string{
			"k/kustomization.yaml": "secretGenerator:\n- name: g\n  envs: [a.env]\n",
			"k/a.env":              encrypted(t, owner, "a.env", "A=PLAINTEXT\n", ""),
		}, "k", []age.Identity{other}, "k/a.env", owner.Recipient().String(), sops.ErrNoMatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := writeTree(t, tc.files)
			objs, _, err := BuildWith(t.Context(), root, tc.dir, Options{Identities: tc.ids})
			if objs != nil {
				t.Errorf("objects built: %v", ids(objs))
			}
			wantError(t, err, tc.file, -1, tc.msg, tc.sentinel)
			if !IsDecryptionError(err) {
				t.Errorf("IsDecryptionError(%v) = false", err)
			}
			if strings.Contains(err.Error(), "PLAINTEXT") {
				t.Errorf("the error shows plaintext: %v", err)
			}
		})
	}
}
