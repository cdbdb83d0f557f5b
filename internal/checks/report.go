// Package checks holds a report of named checks, and the checks that a
// cluster and this machine are ready for a bootstrap: Machine, before a
// cluster is created (Docker for k3d), and Pre, once it is reached.
// Bootstrap's Cluster step and `capstan check --pre` run the very same
// Machine and Pre.
package checks

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Result is the outcome of one check.
type Result struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Message string `json:"message"`
	// Hint says what to do about a failed check.
	Hint string `json:"hint,omitempty"`
	// Detail is the full error behind a failed check, for --verbose.
	Detail string `json:"detail,omitempty"`
}

// Report is the outcome of a set of checks.
type Report struct {
	Checks []Result `json:"checks"`
	// OK is true when every check passed.
	OK bool `json:"ok"`
}

// Add records a check; format and args make its message.
func (r *Report) Add(name string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, Result{Name: name, OK: ok, Message: fmt.Sprintf(format, args...)})
}

// Append records a check made by the caller.
func (r *Report) Append(c Result) {
	r.Checks = append(r.Checks, c)
}

// Finish sets OK from the checks and returns the report.
func (r *Report) Finish() Report {
	r.OK = true
	for _, c := range r.Checks {
		r.OK = r.OK && c.OK
	}
	return *r
}

// Failed returns how many checks failed.
func (r Report) Failed() int {
	n := 0
	for _, c := range r.Checks {
		if !c.OK {
			n++
		}
	}
	return n
}

// Problem returns nil when every check passed, and otherwise an *Error
// naming each failed check and its message, with their hints and details.
func (r Report) Problem() error {
	var failed, hints, details []string
	for _, c := range r.Checks {
		if c.OK {
			continue
		}
		failed = append(failed, c.Name+": "+c.Message)
		if c.Hint != "" && !slices.Contains(hints, c.Hint) {
			hints = append(hints, c.Hint)
		}
		if c.Detail != "" {
			details = append(details, c.Name+": "+c.Detail)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &Error{Err: errors.New(strings.Join(failed, "; ")), Next: strings.Join(hints, "; "), Full: strings.Join(details, "; ")}
}

// Error is the failure of one or more checks.
type Error struct {
	Err error
	// Next is what to do, from the failed checks' hints.
	Next string
	// Full is the errors behind the failed checks, in full.
	Full string
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the failed checks as one error.
func (e *Error) Unwrap() error { return e.Err }

// Hint says what to do next.
func (e *Error) Hint() string { return e.Next }

// Detail is the full errors behind the failed checks (shown with --verbose).
func (e *Error) Detail() string { return e.Full }
