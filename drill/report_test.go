package drill

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/golden"
)

const rev = "main@sha1:0123456789abcdef0123456789abcdef01234567"

func head(timedOut bool) Report {
	return Report{
		Repository: "https://git.example.com/fleet", Branch: "main", Path: "clusters/dwk", Revision: rev,
		Components: Components{FromGit: true, Source: "clusters/dwk/capstan-system", Version: "v0.2.0", Controller: "v0.3.0"},
		TimedOut:   timedOut, ConvergeSeconds: 6.4, TotalSeconds: 21.3,
		Phases: []Phase{{"Repository", 0.2}, {"Cluster", 11.5}, {"Install", 1.1}, {"Controller", 0.3}, {"Converge", 6.4}, {"Diagnose", 0.1}, {"Cleanup", 1.7}},
	}
}

func live(name, path string, ph phase, after time.Duration, retries int, reason, msg string) *liveSync {
	s := capstanv1.Sync{}
	s.Namespace, s.Name, s.Spec.Path = "capstan-system", name, path
	s.Status.Inventory = &capstanv1.Inventory{Entries: make([]capstanv1.InventoryEntry, 12)}
	s.Status.LastRun = &capstanv1.RunStats{Created: 12}
	if ph == ready {
		s.Status.LastAppliedRevision = rev
		reason, msg = capstanv1.SucceededReason, "applied revision "+rev
	} else {
		s.Status.LastAttemptedRevision = rev
	}
	status := metav1.ConditionTrue
	if ph != ready {
		status = metav1.ConditionFalse
	}
	if ph != working {
		s.Status.Conditions = []metav1.Condition{{Type: capstanv1.ReadyCondition, Status: status, Reason: reason, Message: msg}}
	}
	return &liveSync{sync: s, phase: ph, readyAfter: after, retries: retries}
}

func passing() *Report {
	return assemble(head(false), []*liveSync{
		live("apps", "clusters/dwk/apps", ready, 6400*time.Millisecond, 1, "", ""),
		live("capstan-system", "clusters/dwk", ready, 4200*time.Millisecond, 0, "", ""),
	}, nil, nil)
}

func failing() *Report {
	problems := []Problem{
		{Kind: ProblemMissingSecret, Object: "Deployment web/api", File: "clusters/dwk/web/api.yaml", Sync: "capstan-system/capstan-system", Message: "needs Secret web/api-db (env DB_PASSWORD of container api), which no manifest in git creates"},
		{Kind: ProblemMissingCRD, Object: "Backup web/nightly", File: "clusters/dwk/backups/nightly.yaml", Sync: "capstan-system/capstan-system", Message: "no CustomResourceDefinition in git defines Backup in dwk.example.com/v1"},
	}
	tree := []staticSync{{Namespace: "capstan-system", Name: "capstan-system"}, {Namespace: "capstan-system", Name: "apps", Path: "clusters/dwk/apps"}}
	return assemble(head(false), []*liveSync{
		live("capstan-system", "clusters/dwk", failed, 0, 1, capstanv1.ApplyFailedReason, "applying revision "+rev+": Backup/web/nightly dry-run failed: no matches for kind \"Backup\""),
	}, tree, problems)
}

func TestAssemble(t *testing.T) {
	t.Parallel()
	if r := passing(); !r.OK || len(r.Problems) != 0 || r.err() != nil {
		t.Errorf("passing report: OK=%t problems=%v err=%v", r.OK, r.Problems, r.err())
	}
	r := failing()
	if r.OK {
		t.Error("failing report is OK")
	}
	if got := r.err(); got == nil || got.Error() != "the repository did not rebuild a Ready cluster: 2 of 2 Syncs not Ready, 3 problems" {
		t.Errorf("err = %v", got)
	}
	if len(r.Syncs) != 2 || r.Syncs[1].State != StateNotCreated || r.Syncs[1].Key() != "capstan-system/apps" {
		t.Errorf("the Sync declared in git but never created is not reported: %+v", r.Syncs)
	}
	kinds := []string{}
	for _, p := range r.Problems {
		kinds = append(kinds, p.Kind)
	}
	if want := []string{ProblemMissingCRD, ProblemMissingSecret, ProblemSyncFailed}; !equal(kinds, want) {
		t.Errorf("problem order = %v, want causes first: %v", kinds, want)
	}
	// A report with nothing Ready, or no Syncs at all, is never OK.
	if r := assemble(head(true), nil, nil, nil); r.OK {
		t.Error("a report without Syncs is OK")
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPrint(t *testing.T) {
	t.Parallel()
	fallback := passing()
	fallback.Components = Components{Source: "capstan v0.3.0", Version: "v0.3.0", Controller: "v0.3.0"}
	withClaims := passing()
	withClaims.Claims = 2
	timedOut := assemble(head(true), []*liveSync{live("capstan-system", "clusters/dwk", working, 0, 0, "", "")}, nil, []Problem{
		{Kind: ProblemUnhealthy, Object: "Deployment web/worker", File: "clusters/dwk/web/worker.yaml", Sync: "capstan-system/capstan-system", Message: "never became healthy: InProgress: Available: 0/1"},
	})
	for _, tt := range []struct {
		name   string
		report *Report
	}{
		{"passing", passing()},
		{"failing", failing()},
		{"fallback", fallback},
		{"with-claims", withClaims},
		{"timed-out", timedOut},
		{"ready-with-problems", assemble(head(false), []*liveSync{live("capstan-system", "clusters/dwk", ready, 3*time.Second, 0, "", "")}, nil, []Problem{
			{Kind: ProblemMissingPullSecret, Object: "Deployment web/api", File: "clusters/dwk/web/api.yaml", Sync: "capstan-system/capstan-system", Message: "pulls its images with Secret web/regcred (imagePullSecrets), which no manifest in git creates"},
		})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, format := range []string{"text", "json"} {
				var out bytes.Buffer
				if err := Print(&out, format, tt.report); err != nil {
					t.Fatal(err)
				}
				golden.Assert(t, "report-"+tt.name+"-"+format, out.Bytes())
				if format == "json" {
					var back Report
					if err := json.Unmarshal(out.Bytes(), &back); err != nil || back.OK != tt.report.OK || len(back.Syncs) != len(tt.report.Syncs) {
						t.Errorf("json does not decode back: %v", err)
					}
				}
			}
		})
	}
}
