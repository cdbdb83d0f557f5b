package build

import (
	"errors"
	"fmt"

	"filippo.io/age"

	"github.com/capstan-gitops/capstan/internal/sops"
)

// decrypt returns the plaintext of file if it is SOPS-encrypted (chosen by
// its extension as sops does), else data as it is.
func decrypt(file string, data []byte, ids []age.Identity) ([]byte, error) {
	f := sops.FormatOf(file)
	if !sops.IsEncrypted(data, f) {
		return data, nil
	}
	plain, err := sops.Decrypt(data, f, ids)
	if err != nil {
		line := 0
		if se, ok := errors.AsType[*sops.Error](err); ok {
			line = se.Line
		}
		return nil, &Error{File: file, Line: line, Err: err}
	}
	return plain, nil
}

// errUndecrypted is an object that still has a sops block once built: it
// is never applied as ciphertext.
var errUndecrypted = fmt.Errorf("%w: the object has a top-level sops block that was not decrypted", sops.ErrMalformed)

// IsDecryptionError reports whether err is a failure to decrypt a file of
// the revision.
func IsDecryptionError(err error) bool {
	_, ok := errors.AsType[*sops.Error](err)
	return ok || errors.Is(err, errUndecrypted)
}
