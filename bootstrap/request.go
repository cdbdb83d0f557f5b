package bootstrap

import "time"

// handledSince reports whether handled, the reconcile request the
// controller last handled, is the request token or a later one. Two
// bootstraps racing on one cluster each set their own token; when both land
// before the controller reads the Sync, one reconcile handles only the later
// token, and it ran after the earlier request too. Tokens that do not parse
// as RFC 3339 times must match exactly.
func handledSince(handled, token string) bool {
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
