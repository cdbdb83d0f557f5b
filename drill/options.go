package drill

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/capstan-gitops/capstan/clusters/kwok"
	"github.com/capstan-gitops/capstan/internal/git"
	"github.com/capstan-gitops/capstan/internal/sops"
)

// DefaultTimeout bounds the wait for every Sync to become Ready.
const DefaultTimeout = 3 * time.Minute

// Options are the inputs of one drill.
type Options struct {
	// URL and Branch locate the repository; it is cloned, never pushed to.
	URL, Branch string
	// Path is the cluster's directory; empty means the only directory of
	// the repository that holds capstan-system/sync.yaml.
	Path string
	// Insecure allows plain http to a host that is not loopback.
	Insecure bool
	// Auth reaches the repository; the throwaway cluster gets it as the
	// Secret bootstrap would create.
	Auth git.Auth
	// AcceptHostKey trusts the SSH host key the server shows when Auth has
	// no known_hosts.
	AcceptHostKey bool
	// AgeKey is an age identity file (as age-keygen writes it) that opens
	// the repository's SOPS-encrypted files: the throwaway cluster gets it
	// as the Secret bootstrap --age-key-file creates. Without it, or when it
	// opens none of a file's recipients, the report names each such file.
	AgeKey []byte
	// Timeout bounds the wait for the Syncs (default DefaultTimeout).
	Timeout time.Duration
	// BinDir holds the control-plane binaries (default kwok.BinDir()).
	BinDir string
	// StateDir is where the throwaway cluster's state lives while it runs
	// (default kwok.StateDir()); the drill leaves nothing there.
	StateDir string
	// CLIVersion is the running CLI's version, for the fallback components.
	CLIVersion string
	// Logger receives the controller's logs (default: discarded).
	Logger logr.Logger
}

func (o Options) withDefaults() Options {
	if o.Branch == "" {
		o.Branch = "main"
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.BinDir == "" {
		o.BinDir = kwok.BinDir()
	}
	if o.StateDir == "" {
		o.StateDir = kwok.StateDir()
	}
	if o.Logger.GetSink() == nil {
		o.Logger = logr.Discard()
	}
	return o
}

func (o Options) validate() error {
	switch {
	case o.URL == "":
		return errors.New("a repository URL is required (--url)")
	case strings.HasPrefix(o.Path, "/"):
		return errors.New("--path must be a directory inside the repository, such as clusters/dwk")
	}
	if len(o.AgeKey) > 0 {
		if _, err := sops.ParseIdentities(o.AgeKey); err != nil {
			return fmt.Errorf("the age key file: %w", err)
		}
	}
	return nil
}

// binariesError says where the control-plane binaries are expected and how
// to get them.
type binariesError struct {
	err    error
	binDir string
}

func (e *binariesError) Error() string { return e.err.Error() }
func (e *binariesError) Unwrap() error { return e.err }

// Hint says how to build the binaries, or where to point the drill.
func (e *binariesError) Hint() string {
	return fmt.Sprintf("in a checkout of Capstan run `make kube-bins` (it builds them into %s), or set CAPSTAN_KUBE_BIN to a directory holding %s",
		e.binDir, strings.Join(kwok.Binaries(), ", "))
}

// FailedError means the drill ran and the repository did not rebuild a
// Ready cluster; the report says why.
type FailedError struct {
	NotReady, Syncs, Problems int
	TimedOut                  bool
}

func (e *FailedError) Error() string {
	if e.NotReady == 0 && e.Syncs > 0 {
		return fmt.Sprintf("the repository did not rebuild a Ready cluster: every Sync was Ready in the simulated cluster, but %s would keep a real one from running", count(e.Problems, "problem"))
	}
	what := fmt.Sprintf("%d of %s not Ready", e.NotReady, count(e.Syncs, "Sync"))
	if e.TimedOut {
		what += " at the timeout"
	}
	return fmt.Sprintf("the repository did not rebuild a Ready cluster: %s, %s", what, count(e.Problems, "problem"))
}

// Hint says what to do next.
func (e *FailedError) Hint() string {
	if e.TimedOut {
		return "fix the problems in the report and commit; if the Syncs only need longer, pass a longer --timeout"
	}
	return "fix the problems in the report, commit, and run the drill again"
}
