package sops

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel causes of an [*Error], for use with [errors.Is].
var (
	// ErrNoIdentities means the file is encrypted and no identity was
	// given to open it.
	ErrNoIdentities = errors.New("the file is SOPS-encrypted and no age key is configured to decrypt it")
	// ErrNoMatch means none of the identities opens the file's data key.
	ErrNoMatch = errors.New("no age identity opens the file")
	// ErrMAC means the file's content does not match its MAC: it was
	// changed after it was encrypted.
	ErrMAC = errors.New("MAC mismatch: the file was changed after it was encrypted")
	// ErrMalformed means the sops metadata or an encrypted value is not
	// valid.
	ErrMalformed = errors.New("malformed SOPS file")
	// ErrUnsupported means the file uses a SOPS feature this package does
	// not implement (a key type other than age, Shamir key groups, comment
	// regexes).
	ErrUnsupported = errors.New("unsupported SOPS feature")
)

// Error is a failure to decrypt a file. It never holds plaintext.
type Error struct {
	// Line is the 1-based line in the file at fault, or 0.
	Line int
	// Recipients are the age public keys the file is encrypted for, when
	// known.
	Recipients []string
	// Err is one of the sentinel causes, possibly wrapped with detail.
	Err error
}

// Error formats the failure, naming the recipients when no identity
// matched; the caller names the file and line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if len(e.Recipients) > 0 {
		b.WriteString(" (encrypted for " + strings.Join(e.Recipients, ", ") + ")")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func malformed(line int, detail string) *Error {
	return &Error{Line: line, Err: fmt.Errorf("%w: %s", ErrMalformed, detail)}
}
