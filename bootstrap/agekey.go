package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"filippo.io/age"
)

// hintError is a refusal that knows what to do next; its hint replaces
// the step's.
type hintError struct {
	msg, hint string
}

func (e *hintError) Error() string { return e.msg }

// Hint is what to do about it.
func (e *hintError) Hint() string { return e.hint }

// errKeyExists refuses to overwrite a key file.
func errKeyExists(file string) error {
	return &hintError{msg: file + " exists: --generate-age-key never overwrites a key",
		hint: "to use that key, pass --age-key-file " + file + "; to make another, choose a new file name"}
}

// newAgeKey makes the identity of --generate-age-key, in memory, as
// age-keygen writes it: the file is written by the Age key step, after
// the repository was checked.
func newAgeKey(file string, now time.Time) (key []byte, recipient string, err error) {
	if _, err := os.Lstat(file); err == nil {
		return nil, "", errKeyExists(file)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("checking --generate-age-key %s: %w", file, err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, "", fmt.Errorf("generating an age key: %w", err)
	}
	recipient = id.Recipient().String()
	key = fmt.Appendf(nil, "# created: %s\n# public key: %s\n%s\n", now.UTC().Format(time.RFC3339), recipient, id)
	return key, recipient, nil
}

// writeAgeKey writes the generated key to its file, readable by its owner
// only and never over an existing file, before the cluster or the
// repository depends on it; then prints its recipient and what losing it
// means.
func (r *run) writeAgeKey(context.Context) (string, error) {
	file := r.opts.GenerateAgeKey
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", errKeyExists(file)
	}
	if err != nil {
		return "", fmt.Errorf("writing the age key: %w", err)
	}
	if _, err := f.Write(r.opts.AgeKey); err != nil {
		f.Close()       //nolint:errcheck,gosec // the write error is reported
		os.Remove(file) //nolint:errcheck,gosec // a partial key is no key
		return "", fmt.Errorf("writing the age key %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(file) //nolint:errcheck,gosec // a partial key is no key
		return "", fmt.Errorf("writing the age key %s: %w", file, err)
	}
	fmt.Fprintf(r.deps.Out, "Age key written to %s; its public key (the recipient Secrets are encrypted for):\n%s\n", file, r.ageRecipient)
	fmt.Fprintf(r.deps.Out, "Keep %s safe and out of git: if you lose it, you lose the Secrets encrypted for it; nobody can decrypt them, and a rebuilt cluster does not get them back. Rebuild with --age-key-file %s.\n", file, file)
	return "wrote " + file + " (" + r.ageRecipient + ")", nil
}
