// Package check answers two questions about a cluster, one line per check:
// is it ready for `capstan bootstrap` (Pre: Kubernetes version, permissions,
// local prerequisites), and is Capstan healthy in it (Installed: the CRD is
// established at the version this CLI expects, the controller is available,
// every Sync is Ready).
package check

import (
	"errors"
	"fmt"
	"io"

	"github.com/capstan-gitops/capstan/internal/checks"

	"github.com/capstan-gitops/capstan/internal/kubeclient"
	"github.com/capstan-gitops/capstan/internal/output"
)

// Print writes one line per check (✓ or ✗, name, message), or the report
// as JSON or YAML.
func Print(w io.Writer, format string, r checks.Report) error {
	if !output.IsText(format) {
		return output.Write(w, format, r)
	}
	for _, c := range r.Checks {
		mark := "✓"
		if !c.OK {
			mark = "✗"
		}
		if _, err := fmt.Fprintf(w, "%s %s: %s\n", mark, c.Name, c.Message); err != nil {
			return err
		}
	}
	return nil
}

// Err returns nil when every check passed, and otherwise an error that
// counts the failures and says where to look: for --pre, the failed
// checks' own hints.
func Err(r checks.Report, pre bool) error {
	if r.OK {
		return nil
	}
	failed := fmt.Errorf("%d of %d checks failed", r.Failed(), len(r.Checks))
	if !pre {
		return &kubeclient.Error{Err: failed, Next: "see `capstan status -A`, and the controller's logs: kubectl -n capstan-system logs deploy/capstan-controller"}
	}
	// The failed checks' own hints name the cause; the details are for --verbose.
	next, full := "fix what failed, then run capstan check --pre again", ""
	var ce *checks.Error
	if errors.As(r.Problem(), &ce) {
		full = ce.Full
		if ce.Next != "" {
			next = ce.Next + "; then run capstan check --pre again"
		}
	}
	return &checks.Error{Err: failed, Next: next, Full: full}
}
