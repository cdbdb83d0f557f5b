package drill

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/capstan-gitops/capstan/internal/output"
)

// Report is the outcome of one drill: what was rebuilt, how long it took,
// and every problem found.
type Report struct {
	// Repository is the redacted URL drilled, Branch and Path where in it.
	Repository string `json:"repository"`
	Branch     string `json:"branch"`
	Path       string `json:"path"`
	// Revision is the commit rebuilt, "main@sha1:<hex>".
	Revision string `json:"revision"`
	// Components says where the installed controller components came from.
	Components Components `json:"components"`
	// Syncs lists every Sync of the rebuilt cluster, and those git declares
	// but the cluster never got.
	Syncs []SyncResult `json:"syncs"`
	// Problems are what kept the cluster from rebuilding, with their causes.
	Problems []Problem `json:"problems"`
	// TimedOut is true when the Syncs were still not all Ready at the timeout.
	TimedOut bool `json:"timedOut"`
	// Claims counts the PersistentVolumeClaims of the rebuilt cluster: the
	// drill binds them to new, empty volumes, and a real rebuild does too.
	Claims int `json:"claims,omitempty"`
	// Phases are the steps of the drill with their durations.
	Phases []Phase `json:"phases"`
	// ConvergeSeconds is the time from the controller's start until every
	// Sync was Ready (or the drill gave up); TotalSeconds the whole drill.
	ConvergeSeconds float64 `json:"convergeSeconds"`
	TotalSeconds    float64 `json:"totalSeconds"`
	// OK is true when the repository rebuilt a fully Ready cluster.
	OK bool `json:"ok"`
}

// Components describes the controller installed into the throwaway cluster.
type Components struct {
	// FromGit is true when they are the ones committed under
	// <path>/capstan-system; false when the repository has none and the
	// CLI's own were used.
	FromGit bool `json:"fromGit"`
	// Source is the directory they were read from, or "capstan <version>".
	Source string `json:"source"`
	// Version is the controller version the components name.
	Version string `json:"version,omitempty"`
	// Controller is the version of the controller code that ran (this CLI's).
	Controller string `json:"controller"`
}

// Sync states in a report.
const (
	StateReady      = "Ready"
	StateFailed     = "Failed"
	StateNotReady   = "NotReady"
	StateNotCreated = "NotCreated"
)

// SyncResult is how one Sync fared.
type SyncResult struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Path      string `json:"path"`
	// State is Ready, Failed, NotReady (still working at the timeout) or
	// NotCreated (declared in git, never applied).
	State    string `json:"state"`
	Revision string `json:"revision,omitempty"`
	// Objects is how many objects the Sync applied (its inventory).
	Objects   int `json:"objects"`
	Created   int `json:"created"`
	Unchanged int `json:"unchanged"`
	// ReadySeconds is the time from the controller's start until the Sync
	// was first seen Ready; zero when it never was.
	ReadySeconds float64 `json:"readySeconds,omitempty"`
	// Retries counts the reconciles the drill asked for after a failure.
	Retries int `json:"retries,omitempty"`
	// Reason and Message are the Ready condition's when not Ready.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Key returns namespace/name.
func (s SyncResult) Key() string { return s.Namespace + "/" + s.Name }

// Kinds of Problem, in the order a report lists them.
const (
	ProblemSyncFailed          = "sync-failed"
	ProblemMissingFile         = "missing-file"
	ProblemUndecryptable       = "undecryptable-file"
	ProblemMissingCRD          = "missing-crd"
	ProblemMissingNamespace    = "missing-namespace"
	ProblemMissingSecret       = "missing-secret"
	ProblemMissingPullSecret   = "missing-image-pull-secret"
	ProblemMissingConfigMap    = "missing-configmap"
	ProblemMissingSA           = "missing-service-account"
	ProblemMissingStorageClass = "missing-storageclass"
	ProblemUnhealthy           = "unhealthy"
	ProblemSuspended           = "suspended"
)

// Problem is one thing that kept the cluster from rebuilding, and why.
type Problem struct {
	Kind string `json:"kind"`
	// Object is "Kind namespace/name" of the object at fault.
	Object string `json:"object"`
	// File is where git declares it, when known.
	File string `json:"file,omitempty"`
	// Sync is namespace/name of the Sync that applies it.
	Sync    string `json:"sync,omitempty"`
	Message string `json:"message"`
}

// Phase is one step of the drill.
type Phase struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// seconds rounds d to tenths of a second.
func seconds(d time.Duration) float64 {
	return float64(d.Round(100*time.Millisecond)) / float64(time.Second)
}

// Print writes the report as text for people, or as JSON or YAML.
func Print(w io.Writer, format string, r *Report) error {
	if !output.IsText(format) {
		return output.Write(w, format, r)
	}
	var b strings.Builder
	writeText(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeText(b *strings.Builder, r *Report) {
	fmt.Fprintf(b, "Drill of %s (branch %s, path %s) at %s\n", r.Repository, r.Branch, r.Path, r.Revision)
	c := r.Components
	if c.FromGit {
		fmt.Fprintf(b, "Components: %s from git (capstan %s); controller: capstan %s\n", c.Source, c.Version, c.Controller)
	} else {
		fmt.Fprintf(b, "Components: this CLI's (capstan %s): the repository has no %s/capstan-system, it was never bootstrapped; controller: capstan %s\n", c.Version, r.Path, c.Controller)
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SYNC\tSTATE\tREVISION\tOBJECTS\tREADY AFTER\tRETRIES")
	for _, s := range r.Syncs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\n", s.Key(), s.State, orDash(shortRevision(s.Revision)), s.Objects, readyAfter(s), s.Retries)
	}
	_ = tw.Flush()
	if n := r.retried(); n > 0 {
		fmt.Fprintf(b, "Note: %s became Ready only after a retry the drill asked for once another Sync was Ready; a real cluster\nretries after each Sync's retryInterval (default: its interval), so a real recovery takes longer.\n", count(n, "Sync"))
	}
	b.WriteString("\n")
	if len(r.Problems) == 0 {
		b.WriteString("Problems: none\n")
	} else {
		fmt.Fprintf(b, "Problems (%d):\n", len(r.Problems))
		for _, p := range r.Problems {
			writeProblem(b, p)
		}
	}
	if r.Claims > 0 {
		fmt.Fprintf(b, "Note: the rebuilt cluster has %s, which a rebuild starts with new, empty volumes: the data in volumes\nis not in git and no rebuild restores it; restore it from your backups (see docs/troubleshooting.md#volumes).\n",
			count(r.Claims, "PersistentVolumeClaim"))
	}
	b.WriteString("\n")
	fmt.Fprintf(b, "Phases: %s\n", phases(r.Phases))
	if r.OK {
		fmt.Fprintf(b, "✓ The repository rebuilt a Ready cluster: %s Ready %.1fs after the controller started (%.1fs in all).\n", count(len(r.Syncs), "Sync"), r.ConvergeSeconds, r.TotalSeconds)
		return
	}
	if r.ready() == len(r.Syncs) && len(r.Syncs) > 0 {
		fmt.Fprintf(b, "✗ The repository did not rebuild a Ready cluster: every Sync was Ready in the simulated cluster, but %s would keep a real one from running (%.1fs in all).\n",
			count(len(r.Problems), "problem"), r.TotalSeconds)
		return
	}
	verdict := "not Ready"
	if r.TimedOut {
		verdict = fmt.Sprintf("not Ready after %.1fs", r.ConvergeSeconds)
	}
	fmt.Fprintf(b, "✗ The repository did not rebuild a Ready cluster: %d of %s %s; %s (%.1fs in all).\n",
		len(r.Syncs)-r.ready(), count(len(r.Syncs), "Sync"), verdict, count(len(r.Problems), "problem"), r.TotalSeconds)
}

func writeProblem(b *strings.Builder, p Problem) {
	fmt.Fprintf(b, "  ✗ %s %s", p.Kind, p.Object)
	if p.File != "" {
		fmt.Fprintf(b, " (%s)", p.File)
	}
	if p.Sync != "" {
		fmt.Fprintf(b, " [Sync %s]", p.Sync)
	}
	fmt.Fprintf(b, ":\n      %s\n", p.Message)
}

// retried counts the Ready Syncs that needed a retry.
func (r *Report) retried() int {
	n := 0
	for _, s := range r.Syncs {
		if s.State == StateReady && s.Retries > 0 {
			n++
		}
	}
	return n
}

func (r *Report) ready() int {
	n := 0
	for _, s := range r.Syncs {
		if s.State == StateReady {
			n++
		}
	}
	return n
}

func readyAfter(s SyncResult) string {
	if s.State != StateReady {
		return "-"
	}
	return fmt.Sprintf("%.1fs", s.ReadySeconds)
}

func phases(ps []Phase) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%s %.1fs", p.Name, p.Seconds))
	}
	return strings.Join(parts, ", ")
}

// shortRevision abbreviates "main@sha1:<40 hex>" to 7 hex digits.
func shortRevision(rev string) string {
	name, hash, ok := strings.Cut(rev, "@sha1:")
	if !ok || len(hash) <= 7 {
		return rev
	}
	return name + "@sha1:" + hash[:7]
}

// count formats n with noun, in the plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
