// Package steps runs a plan of named, idempotent steps and reports their
// progress: the shape shared by the bootstrap and drill commands.
package steps

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Step is one named, idempotent action of a plan. Run returns a short note
// for the status line ("commit 1a2b3c4", "unchanged").
type Step struct {
	Name string
	Run  func(ctx context.Context) (string, error)
	// Hint tells the user what to do when the step fails.
	Hint string
}

// Plan is an ordered list of steps.
type Plan struct {
	Steps []Step
}

// StepError says which step of a plan failed.
type StepError struct {
	Step string
	Err  error
	hint string
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Hint says what to do next; the CLI prints it under the error. An error
// that names its cause knows better than the step, so its own hint wins.
func (e *StepError) Hint() string {
	var h interface{ Hint() string }
	if errors.As(e.Err, &h) && h.Hint() != "" {
		return h.Hint()
	}
	return e.hint
}

// Reporter shows the progress of a plan.
type Reporter interface {
	Start(step string)
	Done(step, note string, took time.Duration)
	Fail(step string, err error, took time.Duration)
}

// Execute runs the steps in order and stops at the first failure, which it
// returns as a *StepError.
func (p Plan) Execute(ctx context.Context, r Reporter) error {
	for _, s := range p.Steps {
		r.Start(s.Name)
		start := time.Now()
		note, err := s.Run(ctx)
		took := time.Since(start)
		if err != nil {
			r.Fail(s.Name, err, took)
			return &StepError{Step: s.Name, Err: err, hint: s.Hint}
		}
		r.Done(s.Name, note, took)
	}
	return nil
}

// Names lists the plan's step names, for --dry-run.
func (p Plan) Names() []string {
	names := make([]string, 0, len(p.Steps))
	for _, s := range p.Steps {
		names = append(names, s.Name)
	}
	return names
}
