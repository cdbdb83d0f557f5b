package secret

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/capstan-gitops/capstan/internal/sops"
)

// CreateOptions describe a generic Secret, as the flags of `kubectl
// create secret generic`.
type CreateOptions struct {
	Name, Namespace, Type string
	// Literals are KEY=VALUE.
	Literals []string
	// Files are KEY=PATH, or PATH (the key is the file's base name).
	Files []string
	// Encrypt encrypts data for Recipients, or for those of the
	// .sops.yaml rule matching ConfigPath.
	Encrypt    bool
	Recipients []string
	// ConfigPath is the path the .sops.yaml rule is chosen for when
	// Recipients is empty (the Secret is not written there).
	ConfigPath string
}

// Create returns the Secret manifest `kubectl create secret generic
// --dry-run=client -o yaml` prints, encrypted as `sops --encrypt
// --encrypted-regex '^(data|stringData)$'` would when opts.Encrypt. The
// plaintext stays in memory.
func Create(opts CreateOptions) ([]byte, error) {
	if opts.Name == "" {
		return nil, &UserError{Msg: "a Secret needs a name", Advice: "capstan secret create NAME --from-literal KEY=VALUE"}
	}
	if !opts.Encrypt && len(opts.Recipients) > 0 {
		return nil, &UserError{Msg: "--age without --encrypt would print the Secret in plaintext", Advice: "add --encrypt"}
	}
	data := map[string]string{}
	add := func(k string, v []byte) error {
		if k == "" || strings.ContainsFunc(k, func(r rune) bool {
			return !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) {
			return &UserError{Msg: fmt.Sprintf("%q is not a valid Secret key", k), Advice: "keys are made of letters, digits, '-', '_' and '.'"}
		}
		if _, dup := data[k]; dup {
			return &UserError{Msg: fmt.Sprintf("the key %q is given twice", k), Advice: "each --from-literal and --from-file key must be unique"}
		}
		data[k] = base64.StdEncoding.EncodeToString(v)
		return nil
	}
	for _, l := range opts.Literals {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return nil, &UserError{Msg: fmt.Sprintf("--from-literal %q is not KEY=VALUE", k), Advice: "--from-literal password=…"}
		}
		if err := add(k, []byte(v)); err != nil {
			return nil, err
		}
	}
	for _, f := range opts.Files {
		k, p, ok := strings.Cut(f, "=")
		if !ok {
			k, p = filepath.Base(f), f
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("--from-file: %w", err)
		}
		if err := add(k, b); err != nil {
			return nil, err
		}
	}
	md := map[string]any{"name": opts.Name}
	if opts.Namespace != "" {
		md["namespace"] = opts.Namespace
	}
	obj := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": md}
	if len(data) > 0 {
		obj["data"] = data
	}
	if opts.Type != "" {
		obj["type"] = opts.Type
	}
	plain, err := sigsyaml.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("rendering the Secret: %w", err)
	}
	if !opts.Encrypt {
		return plain, nil
	}
	recips := opts.Recipients
	regex := DefaultEncryptedRegex
	if len(recips) == 0 {
		rule, err := FindRule(opts.ConfigPath)
		if err != nil && !errors.Is(err, ErrNoConfig) {
			return nil, err
		}
		recips = rule.Recipients
		if rule.EncryptedRegex != "" {
			regex = rule.EncryptedRegex
		}
	}
	if len(recips) == 0 {
		return nil, &UserError{Msg: "no age recipient to encrypt the Secret for",
			Advice: "pass --age age1… (the public key, `age-keygen -y KEYFILE`), or run it below a " + ConfigName + " with an age creation rule"}
	}
	out, err := sops.Encrypt(plain, sops.YAML, sops.EncryptOptions{Recipients: recips, EncryptedRegex: regex})
	if err != nil {
		return nil, fmt.Errorf("encrypting the Secret: %w", err)
	}
	return out, nil
}
