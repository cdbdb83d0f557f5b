package git

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// testKey returns a new ed25519 key as OpenSSH PEM, encrypted if
// passphrase is set, and its public key.
func testKey(t *testing.T, passphrase string) ([]byte, ssh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), sshPub
}

func TestAuthFromSecretData(t *testing.T) {
	t.Parallel()
	key, pub := testKey(t, "")
	encrypted, _ := testKey(t, "passphrase-1234")
	hosts := []byte(knownhosts.Line([]string{"github.com"}, pub) + "\n")
	ca, otherCA := testCACert(t), testCACert(t)
	tests := []struct {
		name    string
		data    map[string][]byte
		want    Auth
		wantErr bool
	}{
		{"empty", nil, Auth{}, false},
		{"basic", map[string][]byte{"username": []byte("u"), "password": []byte("p"), "other": []byte("x")}, Auth{Username: "u", Password: "p"}, false},
		{"bearer", map[string][]byte{"bearerToken": []byte("t")}, Auth{BearerToken: "t"}, false},
		{"bearer and username", map[string][]byte{"bearerToken": []byte("token-1234"), "username": []byte("user-1234")}, Auth{}, true},
		{"ssh", map[string][]byte{"identity": key, "known_hosts": hosts}, Auth{Identity: key, KnownHosts: hosts}, false},
		{"encrypted identity", map[string][]byte{"identity": encrypted, "password": []byte("passphrase-1234")}, Auth{Identity: encrypted, Password: "passphrase-1234"}, false},
		{"encrypted identity wrong passphrase", map[string][]byte{"identity": encrypted, "password": []byte("wrong")}, Auth{}, true},
		{"encrypted identity no passphrase", map[string][]byte{"identity": encrypted}, Auth{}, true},
		{"garbage identity", map[string][]byte{"identity": []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key-s3cret\n")}, Auth{}, true},
		{"garbage known_hosts", map[string][]byte{"known_hosts": []byte("github.com not-a-key")}, Auth{}, true},
		{"ca.crt", map[string][]byte{"username": []byte("u"), "password": []byte("p"), "ca.crt": ca}, Auth{Username: "u", Password: "p", CABundle: ca}, false},
		{"flux caFile", map[string][]byte{"bearerToken": []byte("t"), "caFile": ca}, Auth{BearerToken: "t", CABundle: ca}, false},
		{"ca.crt wins over caFile", map[string][]byte{"ca.crt": ca, "caFile": otherCA}, Auth{CABundle: ca}, false},
		{"ca bundle of two", map[string][]byte{"ca.crt": append(append([]byte{}, ca...), otherCA...)}, Auth{CABundle: append(append([]byte{}, ca...), otherCA...)}, false},
		{"garbage ca.crt", map[string][]byte{"ca.crt": []byte("-----BEGIN CERTIFICATE-----\nbm90LWEtY2VydA==\n-----END CERTIFICATE-----\n")}, Auth{}, true},
		{"garbage caFile", map[string][]byte{"caFile": []byte("not a certificate s3cret")}, Auth{}, true},
		{"key as ca.crt", map[string][]byte{"ca.crt": key}, Auth{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := AuthFromSecretData(tt.data)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidAuth) || !IsTerminal(err) {
					t.Fatalf("error %v is not a terminal ErrInvalidAuth", err)
				}
				for _, v := range tt.data {
					if strings.Contains(err.Error(), string(v)) {
						t.Errorf("error %q quotes the secret data", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want.String() || got.Username != tt.want.Username || got.Password != tt.want.Password ||
				got.BearerToken != tt.want.BearerToken || string(got.Identity) != string(tt.want.Identity) ||
				string(got.CABundle) != string(tt.want.CABundle) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAuthStringHidesSecrets(t *testing.T) {
	t.Parallel()
	key, _ := testKey(t, "")
	a := Auth{Username: "user-x", Password: "password-x", BearerToken: "token-x", Identity: key, KnownHosts: []byte("hosts-x"), CABundle: testCACert(t)}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, a) + fmt.Sprintf(format, &a)
		for _, secret := range []string{"user-x", "password-x", "token-x", "hosts-x", "PRIVATE KEY", "CERTIFICATE"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s prints %q: %s", format, secret, out)
			}
		}
		if len(out) > 250 {
			t.Errorf("%s prints %d bytes: %s", format, len(out), out)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("x: %w", ErrInvalidURL), true},
		{fmt.Errorf("x: %w", ErrInvalidAuth), true},
		{fmt.Errorf("x: %w", ErrInvalidRef), true},
		{fmt.Errorf("x: %w", ErrAuthFailed), true},
		{fmt.Errorf("x: %w", ErrHostKeyMismatch), true},
		{fmt.Errorf("x: %w", ErrTLS), true},
		{fmt.Errorf("x: %w", ErrUnreachable), false},
		{fmt.Errorf("x: %w", ErrRepositoryNotFound), false},
		{fmt.Errorf("x: %w", ErrRefNotFound), false},
		{fmt.Errorf("x: %w", ErrNonFastForward), false},
		{errors.New("other"), false},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			t.Parallel()
			if got := IsTerminal(tt.err); got != tt.want {
				t.Errorf("IsTerminal(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
