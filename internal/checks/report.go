// Package checks holds a report of named checks, and the checks that a
// cluster and this machine are ready for a bootstrap (Pre). Bootstrap's
// Cluster step and `capstan check --pre` run the very same Pre.
package checks

import (
	"errors"
	"fmt"
	"strings"
)

// Result is the outcome of one check.
type Result struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Message string `json:"message"`
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

// Problem returns nil when every check passed, and otherwise one error
// naming each failed check and its message.
func (r Report) Problem() error {
	var failed []string
	for _, c := range r.Checks {
		if !c.OK {
			failed = append(failed, c.Name+": "+c.Message)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return errors.New(strings.Join(failed, "; "))
}
