package syncs

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// Detail is what `capstan status NAME` shows of one Sync: its summary, its
// inventory and its recent events.
type Detail struct {
	Summary
	// Interval between reconciles.
	Interval string `json:"interval"`
	// Inventory lists the objects the Sync applied.
	Inventory []capstanv1.InventoryEntry `json:"inventory"`
	// Events are the Sync's recent events, oldest first.
	Events []Event `json:"events"`
}

// Event is one event about a Sync.
type Event struct {
	Type    string    `json:"type"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Count   int32     `json:"count,omitempty"`
	Time    time.Time `json:"time"`
}

// Describe returns the detail of s with its events.
func Describe(s *capstanv1.Sync, events []Event) Detail {
	d := Detail{Summary: Summarise(s), Interval: s.Interval().String(), Events: events, Inventory: []capstanv1.InventoryEntry{}}
	if s.Status.Inventory != nil {
		d.Inventory = s.Status.Inventory.Entries
	}
	if d.Events == nil {
		d.Events = []Event{}
	}
	return d
}

// PrintDetail writes d for a person, with ages as of now.
func PrintDetail(w io.Writer, d Detail, now time.Time) error {
	tw := newTabWriter(w)
	field := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	field("Name", d.Name)
	field("Namespace", d.Namespace)
	src := d.URL + ", " + d.Ref
	if d.Path != "" {
		src += ", path " + d.Path
	}
	field("Source", src)
	field("Interval", d.Interval)
	ready := d.Ready
	if d.Reason != "" {
		ready += " (" + d.Reason + ")"
	}
	if d.Message != "" {
		ready += ": " + oneLine(d.Message, 1000)
	}
	field("Ready", ready)
	field("Suspended", fmt.Sprint(d.Suspended))
	field("Revision", orDash(d.Revision))
	if strings.HasPrefix(d.Ref, "semver ") {
		field("Tags", "applied "+orDash(d.AppliedTag)+", newest seen "+orDash(d.NewestTag))
	}
	if d.AttemptedRevision != "" {
		field("Attempted", d.AttemptedRevision)
	}
	field("Last run", lastRun(d.LastRun, now))
	field("Age", Age(d.CreatedAt, now))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(d.Inventory) == 0 {
		fmt.Fprintln(w, "\nInventory: none")
	} else {
		fmt.Fprintf(w, "\nInventory (%d objects):\n", len(d.Inventory))
		printTree(w, d.Inventory)
	}
	return printEvents(w, d.Events, now)
}

func lastRun(r *capstanv1.RunStats, now time.Time) string {
	if r == nil {
		return "-"
	}
	s := fmt.Sprintf("%d created, %d changed, %d unchanged, %d pruned, %d drifted", r.Created, r.Changed, r.Unchanged, r.Pruned, r.Drifted)
	if r.Duration.Duration > 0 {
		s += ", took " + roundDuration(r.Duration.Duration).String()
	}
	if !r.FinishedAt.IsZero() {
		s += ", " + Age(r.FinishedAt.Time, now) + " ago"
	}
	return s
}

// printTree writes the inventory grouped by kind (with its API group), one
// branch per kind and one leaf per object.
func printTree(w io.Writer, entries []capstanv1.InventoryEntry) {
	groups := map[string][]string{}
	for _, e := range entries {
		kind := e.Kind
		if e.Group != "" {
			kind += "." + e.Group
		}
		name := e.Name
		if e.Namespace != "" {
			name = e.Namespace + "/" + e.Name
		}
		groups[kind] = append(groups[kind], name)
	}
	kinds := make([]string, 0, len(groups))
	for k := range groups {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for i, k := range kinds {
		branch, indent := "├── ", "│   "
		if i == len(kinds)-1 {
			branch, indent = "└── ", "    "
		}
		fmt.Fprintf(w, "%s%s\n", branch, k)
		names := groups[k]
		sort.Strings(names)
		for j, n := range names {
			leaf := "├── "
			if j == len(names)-1 {
				leaf = "└── "
			}
			fmt.Fprintf(w, "%s%s%s\n", indent, leaf, n)
		}
	}
}

func printEvents(w io.Writer, events []Event, now time.Time) error {
	if len(events) == 0 {
		_, err := fmt.Fprintln(w, "\nEvents: none")
		return err
	}
	fmt.Fprintln(w, "\nEvents:")
	tw := newTabWriter(w)
	fmt.Fprintln(tw, "  AGE\tTYPE\tREASON\tMESSAGE")
	for _, e := range events {
		msg := oneLine(e.Message, 200)
		if e.Count > 1 {
			msg += fmt.Sprintf(" (×%d)", e.Count)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", Age(e.Time, now), e.Type, e.Reason, msg)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
