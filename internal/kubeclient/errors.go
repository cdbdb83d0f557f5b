package kubeclient

import (
	"errors"
	"fmt"
	"net"
	"net/url"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Sentinel errors the day-2 commands report; test them with errors.Is.
var (
	// ErrNotInstalled means the cluster serves no Sync API.
	ErrNotInstalled = errors.New("capstan is not installed here")
	// ErrSyncNotFound means the named Sync does not exist.
	ErrSyncNotFound = errors.New("sync not found")
)

const unreachableHint = "is the cluster running? Check --kubeconfig and --context (kubectl config get-contexts)"

// Error is an error with a hint for what to do next; the CLI prints the hint
// on its own line.
type Error struct {
	Err error
	// Next is one sentence for the user: what to do next.
	Next string
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Hint returns what the user should do next.
func (e *Error) Hint() string { return e.Next }

// Explain turns the error of a request about the Sync key into one the user
// can act on: the cluster did not answer, it serves no Sync API, or the Sync
// does not exist. Other errors are returned wrapped with what.
func Explain(err error, what string, key client.ObjectKey) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	switch {
	case apimeta.IsNoMatchError(err):
		return NotInstalled()
	case apierrors.IsNotFound(err) && key.Name != "":
		return &Error{
			Err:  fmt.Errorf("%w: %s/%s", ErrSyncNotFound, key.Namespace, key.Name),
			Next: "list the Syncs with `capstan status -A`, or choose the namespace with -n",
		}
	case IsUnreachable(err):
		return &Error{Err: fmt.Errorf("%w: %w", ErrUnreachable, err), Next: unreachableHint}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// NotInstalled returns the error of a cluster without Capstan.
func NotInstalled() error {
	return &Error{Err: fmt.Errorf("%w: the cluster serves no %s API", ErrNotInstalled, "syncs.capstan.dev"), Next: "run capstan bootstrap"}
}

// IsUnreachable reports whether err is a failure to reach the API server
// rather than an answer from it.
func IsUnreachable(err error) bool {
	if errors.Is(err, ErrUnreachable) {
		return true
	}
	var ue *url.Error
	var oe *net.OpError
	return errors.As(err, &ue) || errors.As(err, &oe)
}
