package sops_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/capstan-gitops/capstan/internal/sops"
)

func newIdentity(t testing.TB) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestRoundTrip: Encrypt then Decrypt gives the content back, in every
// format, and Encrypt leaves no plaintext of an encrypted value.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	id := newIdentity(t)
	cases := []struct {
		name   string
		plain  []byte
		format sops.Format
		regex  string
	}{
		{"yaml", []byte(secretYAML), sops.YAML, ""},
		{"yaml regex", []byte(secretYAML), sops.YAML, "^(data|stringData)$"},
		{"json", []byte(secretJSON), sops.JSON, ""},
		{"dotenv", []byte(dotenv), sops.Dotenv, ""},
		{"binary", binary, sops.Binary, ""},
		{"ini", []byte(iniText), sops.INI, ""},
		{"ini regex", []byte(iniText), sops.INI, "^pass"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			enc, err := sops.Encrypt(tc.plain, tc.format, sops.EncryptOptions{Recipients: []string{id.Recipient().String()}, EncryptedRegex: tc.regex})
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(enc, []byte("PLAINTEXT")) {
				t.Fatalf("plaintext in:\n%s", enc)
			}
			got, err := sops.Decrypt(enc, tc.format, []age.Identity{newIdentity(t), id})
			if err != nil {
				t.Fatalf("%v\n%s", err, enc)
			}
			sameContent(t, tc.format, got, tc.plain)
		})
	}
}

func TestIsEncrypted(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		data   string
		format sops.Format
		want   bool
	}{
		{"plain yaml", "kind: Secret\nstringData:\n  sops: x\n", sops.YAML, false},
		{"yaml with sops", "kind: Secret\nsops:\n  mac: x\n", sops.YAML, true},
		{"second document", "kind: A\n---\nkind: B\nsops: {}\n", sops.YAML, true},
		{"invalid yaml", "sops: [", sops.YAML, false},
		{"json", `{"a": {"sops": 1}}`, sops.JSON, false},
		{"json with sops", `{"a": 1, "sops": {}}`, sops.JSON, true},
		{"dotenv", "A=sops\n", sops.Dotenv, false},
		{"dotenv with sops", "A=1\nsops_mac=x\n", sops.Dotenv, true},
		{"binary", "sops", sops.Binary, false},
		{"ini", "[db]\nsops = x\n", sops.INI, false},
		{"ini with sops", "[db]\na = 1\n [ sops ] ; the block\nmac = x\n", sops.INI, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := sops.IsEncrypted([]byte(tc.data), tc.format); got != tc.want {
				t.Errorf("IsEncrypted = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseIdentities(t *testing.T) {
	t.Parallel()
	a, b := newIdentity(t), newIdentity(t)
	good := "# created: now\n# public key: " + a.Recipient().String() + "\n" + a.String() + "\n\n" + b.String() + "\n"
	ids, err := sops.ParseIdentities([]byte(good))
	if err != nil || len(ids) != 2 || sops.Recipient(ids[1]) != b.Recipient().String() {
		t.Fatalf("ParseIdentities = %d identities, %v", len(ids), err)
	}
	for _, bad := range []string{"", "# only a comment\n", a.String() + "\nAGE-SECRET-KEY-1NOTAKEY\n", strings.ToLower(a.String())} {
		_, err := sops.ParseIdentities([]byte(bad))
		if err == nil {
			t.Errorf("ParseIdentities(%q) succeeded", bad)
			continue
		}
		if strings.Contains(strings.ToUpper(err.Error()), "AGE-SECRET-KEY-1") && strings.Contains(err.Error(), a.String()[20:]) {
			t.Errorf("the error shows the key: %v", err)
		}
	}
}

// TestDecryptIsTolerantOfNothing: a file with sops metadata that another
// identity encrypted reports ErrNoMatch with its recipients.
func TestDecryptNamesRecipients(t *testing.T) {
	t.Parallel()
	owner := newIdentity(t)
	enc, err := sops.Encrypt([]byte("kind: Secret\nstringData:\n  a: b\n"), sops.YAML, sops.EncryptOptions{Recipients: []string{owner.Recipient().String()}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sops.Decrypt(enc, sops.YAML, []age.Identity{newIdentity(t)})
	var se *sops.Error
	if !errors.As(err, &se) || !errors.Is(err, sops.ErrNoMatch) || len(se.Recipients) != 1 || se.Recipients[0] != owner.Recipient().String() {
		t.Fatalf("Decrypt = %v", err)
	}
}
