package diff

import (
	"fmt"
	"io"
	"sort"

	"github.com/capstan-gitops/capstan/internal/apply"
	"github.com/capstan-gitops/capstan/internal/output"
)

// Action is what applying would do to one object.
type Action string

// The actions a Report lists; unchanged objects are only counted.
const (
	Created Action = "created"
	Changed Action = "changed"
	Pruned  Action = "pruned"
)

// Change is one object that applying would create, change or prune.
type Change struct {
	// Object is Kind/namespace/name.
	Object string    `json:"object"`
	Ref    apply.Ref `json:"ref"`
	Action Action    `json:"action"`
	// Diff is the unified diff of the live object against the object after
	// the apply, for Changed; Secret data is masked.
	Diff string `json:"diff,omitempty"`
}

// Report is the outcome of a diff.
type Report struct {
	// Sync is namespace/name of the Sync compared.
	Sync string `json:"sync"`
	// Source is the local directory or the revision built.
	Source    string   `json:"source"`
	Changes   []Change `json:"changes"`
	Unchanged int      `json:"unchanged"`
}

// HasChanges reports whether applying would change the cluster.
func (r Report) HasChanges() bool { return len(r.Changes) > 0 }

// Count returns how many changes have action a.
func (r Report) Count(a Action) int {
	n := 0
	for _, c := range r.Changes {
		if c.Action == a {
			n++
		}
	}
	return n
}

// sort orders changes as the controller applies: by group, kind, namespace
// and name, and pruned objects last.
func (r *Report) sort() {
	sort.SliceStable(r.Changes, func(i, j int) bool {
		a, b := r.Changes[i], r.Changes[j]
		if (a.Action == Pruned) != (b.Action == Pruned) {
			return b.Action == Pruned
		}
		x, y := a.Ref, b.Ref
		for _, p := range [][2]string{{x.Group, y.Group}, {x.Kind, y.Kind}, {x.Namespace, y.Namespace}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return x.Name < y.Name
	})
}

// Print writes the report as text (one line per object, then its diff) or
// as JSON or YAML.
func Print(w io.Writer, format string, r Report) error {
	if !output.IsText(format) {
		return output.Write(w, format, r)
	}
	for _, c := range r.Changes {
		if _, err := fmt.Fprintf(w, "► %s %s\n", c.Object, c.Action); err != nil {
			return err
		}
		if _, err := io.WriteString(w, c.Diff); err != nil {
			return err
		}
	}
	return nil
}

// Summary is one line about the report, for stderr.
func Summary(r Report) string {
	if !r.HasChanges() {
		return fmt.Sprintf("✓ no differences: %d objects of %s unchanged (%s)", r.Unchanged, r.Sync, r.Source)
	}
	return fmt.Sprintf("✗ %d differences for %s (%s): %d created, %d changed, %d pruned, %d unchanged", len(r.Changes), r.Sync, r.Source,
		r.Count(Created), r.Count(Changed), r.Count(Pruned), r.Unchanged)
}
