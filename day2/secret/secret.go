// Package secret is `capstan secret`: encrypting a Secret manifest for the
// age recipients of the repository's .sops.yaml, decrypting it, and making
// a new (encrypted) Secret manifest without plaintext ever touching disk.
package secret

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/capstan-gitops/capstan/internal/sops"
)

// EncryptOptions say for whom to encrypt a file.
type EncryptOptions struct {
	// Recipients, if set, override the .sops.yaml rule's (as sops --age).
	Recipients []string
}

// UserError is a refusal shown as one line and a hint.
type UserError struct {
	Msg, Advice string
}

// Error is the one line.
func (e *UserError) Error() string { return e.Msg }

// Hint is what to do about it.
func (e *UserError) Hint() string { return e.Advice }

// Encrypt encrypts file's content for the recipients of its .sops.yaml
// rule, or those of opts, and returns the encrypted file.
func Encrypt(file string, opts EncryptOptions) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	f := sops.FormatOf(file)
	if sops.IsEncrypted(data, f) {
		return nil, &UserError{Msg: file + " is already encrypted",
			Advice: "`capstan secret decrypt " + file + "` shows it; edit it with `sops " + file + "`, or decrypt, change and encrypt again"}
	}
	rule, err := FindRule(file)
	switch {
	case errors.Is(err, ErrNoConfig):
		rule = Rule{}
	case err != nil && len(opts.Recipients) == 0:
		return nil, err
	}
	recips := rule.Recipients
	if len(opts.Recipients) > 0 {
		recips = opts.Recipients
	}
	if len(recips) == 0 {
		where := "no " + ConfigName + " above " + file
		if rule.Config != "" {
			where = "the rule of " + rule.Config + " for " + file + " has no age recipients"
		}
		return nil, &UserError{Msg: "no age recipient to encrypt " + file + " for: " + where,
			Advice: "pass --age age1… (the public key, `age-keygen -y KEYFILE`), or add a creation rule with `age:` to " + ConfigName}
	}
	regex := rule.EncryptedRegex
	if regex == "" && (f == sops.YAML || f == sops.JSON) {
		// A manifest's values; a dotenv, INI or binary file has no data or
		// stringData key and is encrypted whole, as sops does.
		regex = DefaultEncryptedRegex
	}
	out, err := sops.Encrypt(data, f, sops.EncryptOptions{Recipients: recips, EncryptedRegex: regex})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

// EncryptInPlace encrypts file and replaces it atomically, keeping its
// mode.
func EncryptInPlace(file string, opts EncryptOptions) error {
	out, err := Encrypt(file, opts)
	if err != nil {
		return err
	}
	st, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("encrypting in place: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return fmt.Errorf("encrypting in place: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if _, err := tmp.Write(out); err != nil {
		tmp.Close() //nolint:errcheck,gosec // the write error is reported
		return fmt.Errorf("encrypting in place: %w", err)
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close() //nolint:errcheck,gosec // the chmod error is reported
		return fmt.Errorf("encrypting in place: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("encrypting in place: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("encrypting in place: %w", err)
	}
	return nil
}

// Decrypt decrypts file with ids.
func Decrypt(file string, ids []age.Identity) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	f := sops.FormatOf(file)
	if !sops.IsEncrypted(data, f) {
		return nil, &UserError{Msg: file + " is not SOPS-encrypted", Advice: "it is plaintext already; `capstan secret encrypt --in-place " + file + "` encrypts it"}
	}
	if len(ids) == 0 {
		recips, _ := sops.Recipients(data, f)
		return nil, &UserError{Msg: fmt.Sprintf("%s is encrypted for %s and no age key is given", file, strings.Join(recips, ", ")),
			Advice: "pass --age-key-file FILE (or set CAPSTAN_AGE_KEY_FILE or SOPS_AGE_KEY_FILE)"}
	}
	out, err := sops.Decrypt(data, f, ids)
	if err != nil {
		var se *sops.Error
		if errors.As(err, &se) && se.Line > 0 {
			return nil, fmt.Errorf("%s:%d: %w", file, se.Line, err)
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}
