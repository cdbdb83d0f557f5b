package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GetConditions returns the status conditions of s.
func (s *Sync) GetConditions() []metav1.Condition {
	return s.Status.Conditions
}

// SetConditions replaces the status conditions of s.
func (s *Sync) SetConditions(conditions []metav1.Condition) {
	s.Status.Conditions = conditions
}

// Interval returns spec.interval, or DefaultInterval when it is unset or not
// positive.
func (s *Sync) Interval() time.Duration {
	if d := s.Spec.Interval.Duration; d > 0 {
		return d
	}
	return DefaultInterval
}

// RetryInterval returns spec.retryInterval, or Interval when it is unset or
// not positive.
func (s *Sync) RetryInterval() time.Duration {
	if r := s.Spec.RetryInterval; r != nil && r.Duration > 0 {
		return r.Duration
	}
	return s.Interval()
}

// Timeout returns spec.timeout, or DefaultTimeout when it is unset or not
// positive.
func (s *Sync) Timeout() time.Duration {
	if t := s.Spec.Timeout; t != nil && t.Duration > 0 {
		return t.Duration
	}
	return DefaultTimeout
}

// PruneEnabled reports whether spec.prune is true or unset.
func (s *Sync) PruneEnabled() bool {
	return s.Spec.Prune == nil || *s.Spec.Prune
}

// WaitEnabled reports whether spec.wait is true or unset.
func (s *Sync) WaitEnabled() bool {
	return s.Spec.Wait == nil || *s.Spec.Wait
}

// Ref returns the ref to check out: spec.ref, or the branch DefaultBranch
// when spec.ref is unset or empty.
func (s *Sync) Ref() GitRef {
	if r := s.Spec.Ref; r != nil && !r.IsZero() {
		return *r
	}
	return GitRef{Branch: DefaultBranch}
}
