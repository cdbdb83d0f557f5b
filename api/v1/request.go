package v1

import "time"

// HandledRequest reports whether the controller has handled the sync-now
// request token (ReconcileRequestAnnotation), or a later one, at the Sync's
// current generation. Two
// bootstraps racing on one cluster each set their own token; when both land
// before the controller reads the Sync, one reconcile handles only the later
// token, and it ran after the earlier request too. Tokens that do not parse
// as RFC 3339 times must match exactly.
func (s *Sync) HandledRequest(token string) bool {
	if s.Status.ObservedGeneration != s.Generation {
		return false
	}
	handled := s.Status.LastHandledReconcileAt
	if handled == token {
		return true
	}
	h, err := time.Parse(time.RFC3339Nano, handled)
	if err != nil {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, token)
	return err == nil && !h.Before(t)
}
