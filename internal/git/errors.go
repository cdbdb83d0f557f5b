package git

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/capstan-gitops/capstan/internal/redact"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// Error kinds; see the package documentation for which are terminal.
var (
	// ErrInvalidURL: ParseURL refused the URL. Terminal.
	ErrInvalidURL = errors.New("invalid git URL")
	// ErrInvalidAuth: the credentials are malformed or do not fit the
	// scheme (an unparsable identity, ssh without known_hosts). Terminal.
	ErrInvalidAuth = errors.New("invalid git credentials")
	// ErrAuthFailed: the server refused the credentials. Terminal.
	ErrAuthFailed = errors.New("authentication failed")
	// ErrHostKeyMismatch: the SSH host key is not in known_hosts, or a
	// different key is. Terminal.
	ErrHostKeyMismatch = errors.New("ssh host key verification failed")
	// ErrTLS: the https server's certificate does not verify against the
	// system roots and Auth.CABundle (unknown or private CA, wrong host
	// name, expired). Terminal, like ErrHostKeyMismatch: the same CA bundle
	// keeps refusing the same certificate.
	ErrTLS = errors.New("tls certificate verification failed")
	// ErrInvalidRef: a branch or tag name or a commit hash is malformed, so
	// no such ref can ever exist. Terminal.
	ErrInvalidRef = errors.New("invalid git ref")
	// ErrRepositoryNotFound: the server has no such repository. Transient.
	ErrRepositoryNotFound = errors.New("repository not found")
	// ErrRefNotFound: the branch, tag or commit does not exist (yet), or the
	// repository is empty. Transient.
	ErrRefNotFound = errors.New("reference not found")
	// ErrUnreachable: the network or the server failed. Transient.
	ErrUnreachable = errors.New("git remote unreachable")
	// ErrNonFastForward: a push was rejected because the branch moved.
	ErrNonFastForward = errors.New("push rejected: branch moved, not a fast-forward")
)

// IsTerminal reports whether retrying err with the same URL, ref and
// credentials cannot succeed: ErrInvalidURL, ErrInvalidRef, ErrInvalidAuth,
// ErrAuthFailed, ErrHostKeyMismatch and ErrTLS.
func IsTerminal(err error) bool {
	return errors.Is(err, ErrInvalidURL) || errors.Is(err, ErrInvalidRef) || errors.Is(err, ErrInvalidAuth) ||
		errors.Is(err, ErrAuthFailed) || errors.Is(err, ErrHostKeyMismatch) || errors.Is(err, ErrTLS)
}

// wrapErr wraps err once with the operation and the redacted URL, adds the
// recognised kind, and scrubs the secrets of auth from the message.
func wrapErr(op string, ep Endpoint, auth Auth, err error) error {
	if err == nil {
		return nil
	}
	if kind := kindOf(err); kind != nil && !errors.Is(err, kind) {
		err = &kindError{kind: kind, err: err}
	}
	return scrub(fmt.Errorf("%s %s: %w", op, redact.URL(ep.String()), err), auth.Password, auth.BearerToken)
}

// kindError adds a kind to a cause from go-git, ssh or the network.
type kindError struct {
	kind error
	err  error
}

// Error names the kind unless the cause already starts with it, and drops
// the dangling ": " go-git leaves when a server gave no reason.
func (e *kindError) Error() string {
	msg := strings.TrimSuffix(e.err.Error(), ": ")
	if strings.HasPrefix(msg, e.kind.Error()) {
		return msg
	}
	return e.kind.Error() + ": " + msg
}

func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// kindOf maps go-git, ssh and network errors to an error kind, or nil.
func kindOf(err error) error {
	var unexpected *plumbing.UnexpectedError
	if errors.As(err, &unexpected) {
		var status *githttp.Err
		if errors.As(unexpected.Err, &status) && status.StatusCode() >= 500 {
			return ErrUnreachable
		}
		return kindOf(unexpected.Err)
	}
	var permanent *plumbing.PermanentError
	if errors.As(err, &permanent) {
		return kindOf(permanent.Err)
	}
	msg := err.Error()
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil
	case errors.Is(err, ErrHostKeyMismatch), errors.Is(err, ErrInvalidAuth), errors.Is(err, ErrInvalidURL),
		errors.Is(err, ErrInvalidRef), errors.Is(err, ErrRefNotFound), errors.Is(err, ErrNonFastForward),
		errors.Is(err, ErrTLS):
		return nil // already carries its kind
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed),
		strings.Contains(msg, "ssh: unable to authenticate"):
		return ErrAuthFailed
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return ErrRepositoryNotFound
	case isCertificateError(err):
		return ErrTLS
	case errors.Is(err, transport.ErrEmptyRemoteRepository), errors.Is(err, plumbing.ErrReferenceNotFound),
		errors.Is(err, gogit.NoMatchingRefSpecError{}), strings.Contains(msg, "not our ref"):
		return ErrRefNotFound
	case isNetworkError(err):
		return ErrUnreachable
	}
	return nil
}

// isCertificateError reports a server certificate that did not verify.
// Other TLS failures (a handshake cut short, a server that does not speak
// TLS) are network errors or have no kind.
func isCertificateError(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// isNetworkError reports connection, DNS and timeout failures.
func isNetworkError(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// scrubbedError is an error whose message had secrets removed; errors.Is
// and errors.As still see the original chain.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrub replaces every occurrence of the secrets, plain or URL-escaped, in
// the message of err.
func scrub(err error, secrets ...string) error {
	msg := redact.Secrets(err.Error(), secrets...)
	if msg == err.Error() {
		return err
	}
	return &scrubbedError{msg: msg, err: err}
}
