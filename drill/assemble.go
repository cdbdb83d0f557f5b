package drill

import capstanv1 "github.com/capstan-gitops/capstan/api/v1"

// assemble completes the report head with a result per Sync, the problems
// of the Syncs that are not Ready, and the verdict.
func assemble(head Report, live []*liveSync, tree []staticSync, problems []Problem) *Report {
	r := head
	seen := map[string]bool{}
	// A Sync whose path names a missing file failed for that reason, and
	// one still waiting for a claim of a missing StorageClass waits for
	// that: their problems say so with the file.
	// One that failed to decrypt a file no key given opens failed for
	// that reason, which its undecryptable-file problem tells.
	explained, waiting, sealed := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, p := range problems {
		switch p.Kind {
		case ProblemMissingFile:
			explained[p.Object] = true
		case ProblemMissingStorageClass:
			waiting[p.Sync] = true
		case ProblemUndecryptable:
			sealed[p.Sync] = true
		}
	}
	for _, ls := range live {
		res := syncResult(ls)
		seen[res.Key()] = true
		r.Syncs = append(r.Syncs, res)
		undecrypted := sealed[res.Key()] && res.Reason == capstanv1.DecryptionFailedReason
		if ls.phase != ready && !explained[syncObject(res.Namespace, res.Name)] && !undecrypted && (ls.phase != working || !waiting[res.Key()]) {
			problems = append(problems, syncProblem(ls, r.TimedOut))
		}
	}
	for _, s := range tree {
		if !seen[s.Key()] {
			seen[s.Key()] = true
			r.Syncs = append(r.Syncs, SyncResult{Namespace: s.Namespace, Name: s.Name, Path: s.Path, State: StateNotCreated,
				Message: "declared in git, never applied: the Sync that applies it did not finish"})
		}
	}
	sortProblems(problems)
	r.Problems = problems
	if r.Problems == nil {
		r.Problems = []Problem{}
	}
	r.OK = len(r.Syncs) > 0 && r.ready() == len(r.Syncs) && len(r.Problems) == 0
	return &r
}

// syncResult reports one live Sync.
func syncResult(ls *liveSync) SyncResult {
	s := ls.sync
	res := SyncResult{Namespace: s.Namespace, Name: s.Name, Path: s.Spec.Path, Retries: ls.retries, Revision: s.Status.LastAppliedRevision}
	if inv := s.Status.Inventory; inv != nil {
		res.Objects = len(inv.Entries)
	}
	if lr := s.Status.LastRun; lr != nil {
		res.Created, res.Unchanged = lr.Created, lr.Unchanged
	}
	switch ls.phase {
	case ready:
		res.State, res.ReadySeconds = StateReady, seconds(ls.readyAfter)
		return res
	case failed, blocked:
		res.State = StateFailed
	default:
		res.State = StateNotReady
	}
	if res.Revision == "" {
		res.Revision = s.Status.LastAttemptedRevision
	}
	if c := readyCondition(&s); c != nil {
		res.Reason, res.Message = c.Reason, c.Message
	}
	return res
}

// err is nil when the repository rebuilt a Ready cluster.
func (r *Report) err() error {
	if r.OK {
		return nil
	}
	return &FailedError{NotReady: len(r.Syncs) - r.ready(), Syncs: len(r.Syncs), Problems: len(r.Problems), TimedOut: r.TimedOut}
}
