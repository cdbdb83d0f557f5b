package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/capstan-gitops/capstan/internal/helm"
)

// Sentinel causes wrapped by [*Error], for use with [errors.Is].
var (
	// ErrLimit means the revision exceeds one of the [Limits] (a chart's
	// render limits included: it is [helm.ErrLimit]).
	ErrLimit = helm.ErrLimit
	// ErrOutsideRoot means a path or symlink leaves the checkout.
	ErrOutsideRoot = errors.New("outside the repository root")
	// ErrRemote means a kustomization refers to a remote base or file.
	ErrRemote = errors.New("remote references are not allowed")
	// ErrUnsupported means the revision uses a feature Build refuses to run.
	ErrUnsupported = errors.New("not supported")
	// ErrPathNotFound means the directory to build is not in the revision.
	// A file or directory a kustomization names that is not there is a
	// [*MissingFileError] instead.
	ErrPathNotFound = errors.New("path does not exist")
)

// Error is a build failure caused by the content of the revision. It is
// terminal: building the same revision again fails the same way.
type Error struct {
	// File is the offending file or directory, relative to the checkout
	// root, in slash form. It is empty when no single file is to blame.
	File string
	// Line is the 1-based line in File, or 0 when unknown.
	Line int
	// Err is the cause.
	Err error
}

// Error formats the failure as "file:line: cause".
func (e *Error) Error() string {
	msg := "<nil>"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	switch {
	case e.File == "":
		return msg
	case e.Line > 0:
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + msg
	default:
		return e.File + ": " + msg
	}
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// IsTerminal reports whether err (or an error it wraps) is an [*Error] or
// a [*MissingFileError], that is a failure that retrying the same revision
// cannot fix.
func IsTerminal(err error) bool {
	if _, ok := errors.AsType[*MissingFileError](err); ok {
		return true
	}
	_, ok := errors.AsType[*Error](err)
	return ok
}

// pathNotFound turns the failure to find the directory to build into an
// *Error wrapping ErrPathNotFound; other errors are returned as they are.
func pathNotFound(err error) error {
	if e, ok := errors.AsType[*Error](err); ok && errors.Is(e.Err, fs.ErrNotExist) {
		return &Error{File: e.File, Err: ErrPathNotFound}
	}
	return err
}

// errorf returns an *Error for file and line with a formatted cause;
// %w in format wraps as with fmt.Errorf.
func errorf(file string, line int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Err: fmt.Errorf(format, args...)}
}

// interrupted returns a transient error if ctx is done, else nil.
func interrupted(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("build interrupted: %w", err)
	}
	return nil
}
