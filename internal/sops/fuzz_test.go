package sops_test

import (
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/capstan-gitops/capstan/internal/sops"
)

// FuzzDecrypt feeds untrusted repository content to the parsing and
// decryption path: it must never panic, and an error must never show a
// plaintext value or the identity.
func FuzzDecrypt(f *testing.F) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		f.Fatal(err)
	}
	opts := sops.EncryptOptions{Recipients: []string{id.Recipient().String()}}
	seeds := []struct {
		plain  string
		format sops.Format
		regex  string
	}{
		{secretYAML, sops.YAML, ""},
		{secretYAML, sops.YAML, "^(data|stringData)$"},
		{secretJSON, sops.JSON, ""},
		{dotenv, sops.Dotenv, ""},
		{string(binary), sops.Binary, ""},
		{iniText, sops.INI, ""},
		{iniText, sops.INI, "^pass"},
	}
	for _, s := range seeds {
		o := opts
		o.EncryptedRegex = s.regex
		enc, err := sops.Encrypt([]byte(s.plain), s.format, o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc, uint8(s.format))
	}
	f.Add([]byte("sops:\n  age: [{recipient: x, enc: y}]\n  lastmodified: 2020-01-01T00:00:00Z\n  mac: ENC[AES256_GCM,data:,iv:,tag:,type:str]\n"), uint8(sops.YAML))
	f.Add([]byte("sops_age__list_0__map_recipient=x\nsops_age__list_x__map_enc=y\n"), uint8(sops.Dotenv))
	f.Add([]byte("[sops]\nage__list_0__map_recipient = x\nmac = `ENC[`\nk = \"\"\"a\n[s]\n"), uint8(sops.INI))
	ids := []age.Identity{id}
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		fm := sops.Format(format % 5)
		_ = sops.IsEncrypted(data, fm)
		_, _ = sops.Recipients(data, fm)
		out, err := sops.Decrypt(data, fm, ids)
		if err != nil {
			if out != nil {
				t.Fatal("output with an error")
			}
			msg := err.Error()
			if strings.Contains(msg, "PLAINTEXT") || strings.Contains(msg, id.String()) {
				t.Fatalf("the error shows a secret: %s", msg)
			}
		}
	})
}
