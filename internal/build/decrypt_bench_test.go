package build

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/capstan-gitops/capstan/internal/sops"
)

// BenchmarkDecrypt100Secrets builds a directory of 100 Secrets encrypted as
// `sops --encrypt --age … --encrypted-regex '^(data|stringData)$'` writes
// them (three values each), and the same Secrets in plaintext: the
// difference is what decrypting 100 Secrets costs a build (issue 15: at
// most 200 ms). `make bench` runs it.
func BenchmarkDecrypt100Secrets(b *testing.B) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	for _, encrypt := range []bool{true, false} {
		name := map[bool]string{true: "encrypted", false: "plaintext"}[encrypt]
		b.Run(name, func(b *testing.B) {
			root := b.TempDir()
			dir := filepath.Join(root, "apps")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			for i := range 100 {
				data := []byte(fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: secret-%03d\n  namespace: app\ntype: Opaque\nstringData:\n  username: user-%03d\n  password: PLAINTEXT-%03d-0123456789abcdef\n  url: postgres://db-%03d.app.svc:5432/app\n", i, i, i, i))
				if encrypt {
					if data, err = sops.Encrypt(data, sops.YAML, sops.EncryptOptions{Recipients: []string{id.Recipient().String()}, EncryptedRegex: "^(data|stringData)$"}); err != nil {
						b.Fatal(err)
					}
				}
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("secret-%03d.yaml", i)), data, 0o644); err != nil {
					b.Fatal(err)
				}
			}
			opts := Options{Identities: []age.Identity{id}}
			b.ReportAllocs()
			for b.Loop() {
				objs, _, err := BuildWith(b.Context(), root, "apps", opts)
				if err != nil || len(objs) != 100 {
					b.Fatalf("%d objects, %v", len(objs), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/build")
		})
	}
}
