package ui

import (
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/day2/syncs"
)

// The badges of Syncs, by state.
var (
	stateReady       = badge{"ok", "✓", "Ready"}
	stateProgressing = badge{"wait", "◔", "Progressing"}
	stateFailed      = badge{"bad", "✗", "Failed"}
	stateSuspended   = badge{"paused", "‖", "Suspended"}
)

// syncRow is one Sync as the overview shows it.
type syncRow struct {
	syncs.Summary
	State badge
	// Short is the revision abbreviated; CommitURL its page, if known.
	Short, CommitURL string
	LastRun          string
	// Finished is when the last run ended.
	Finished  time.Time
	DependsOn []string
	// Requested is the reconcile request not yet handled, if any, and
	// RequestedAt its time when it is one.
	Requested   string
	RequestedAt time.Time
}

// Key is namespace/name.
func (r syncRow) Key() string { return r.Namespace + "/" + r.Name }

// stateOf classifies a Sync for a person.
func stateOf(sum syncs.Summary) badge {
	switch {
	case sum.Suspended:
		return stateSuspended
	case sum.Reconciling || sum.Reason == capstanv1.ProgressingReason:
		return stateProgressing
	case sum.Ready == "True":
		return stateReady
	case sum.Ready == "False":
		return stateFailed
	}
	return stateProgressing
}

func rowOf(s *capstanv1.Sync) syncRow {
	sum := syncs.Summarise(s)
	r := syncRow{Summary: sum, State: stateOf(sum), Short: syncs.ShortRevision(sum.Revision),
		CommitURL: CommitURL(s.Spec.URL, sum.Revision), LastRun: runText(sum.LastRun)}
	if sum.LastRun != nil {
		r.Finished = sum.LastRun.FinishedAt.Time
	}
	for _, d := range s.Spec.DependsOn {
		r.DependsOn = append(r.DependsOn, d.Name)
	}
	if req := s.Annotations[capstanv1.ReconcileRequestAnnotation]; req != "" && req != s.Status.LastHandledReconcileAt {
		r.Requested = req
		if t, err := time.Parse(time.RFC3339Nano, req); err == nil {
			r.RequestedAt = t
		}
		if !s.Spec.Suspend { // the controller has yet to report on it
			r.State = stateProgressing
		}
	}
	return r
}

// runText is what the last run did, without its age (shown apart).
func runText(r *capstanv1.RunStats) string {
	if r == nil {
		return "-"
	}
	c := *r
	c.FinishedAt = metav1.Time{}
	return syncs.RunText(&c, time.Time{})
}

// graph is the dependsOn graph of Syncs drawn in columns: a Sync stands one
// column right of the last Sync it depends on.
type graph struct {
	Columns [][]graphNode
}

// graphNode is one Sync in the graph.
type graphNode struct {
	Key, Name string
	State     badge
	DependsOn []string
	// Missing names dependencies that are not there.
	Missing []string
}

// dependencyGraph lays the Syncs out by depth; a cycle is drawn where it
// was found, its Syncs in the first column they reach.
func dependencyGraph(rows []syncRow) graph {
	byKey := map[string]syncRow{}
	for _, r := range rows {
		byKey[r.Key()] = r
	}
	depth := map[string]int{}
	var visit func(k string, seen map[string]bool) int
	visit = func(k string, seen map[string]bool) int {
		if d, ok := depth[k]; ok {
			return d
		}
		if seen[k] {
			return 0
		}
		seen[k] = true
		d := 0
		r := byKey[k]
		for _, dep := range r.DependsOn {
			dk := r.Namespace + "/" + dep
			if _, ok := byKey[dk]; ok {
				d = max(d, visit(dk, seen)+1)
			}
		}
		depth[k] = d
		return d
	}
	g := graph{}
	for _, r := range rows {
		d := visit(r.Key(), map[string]bool{})
		for len(g.Columns) <= d {
			g.Columns = append(g.Columns, nil)
		}
		n := graphNode{Key: r.Key(), Name: r.Name, State: r.State}
		for _, dep := range r.DependsOn {
			if _, ok := byKey[r.Namespace+"/"+dep]; ok {
				n.DependsOn = append(n.DependsOn, dep)
			} else {
				n.Missing = append(n.Missing, dep)
			}
		}
		g.Columns[d] = append(g.Columns[d], n)
	}
	for _, c := range g.Columns {
		sort.Slice(c, func(i, j int) bool { return c[i].Key < c[j].Key })
	}
	return g
}

// HasEdges reports whether any Sync depends on another.
func (g graph) HasEdges() bool {
	for _, c := range g.Columns {
		for _, n := range c {
			if len(n.DependsOn)+len(n.Missing) > 0 {
				return true
			}
		}
	}
	return false
}
