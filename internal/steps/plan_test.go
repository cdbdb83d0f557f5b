package steps

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/internal/golden"
)

func TestPlanStopsAtFirstFailure(t *testing.T) {
	t.Parallel()
	var ran []string
	step := func(name string, err error) Step {
		return Step{Name: name, Run: func(context.Context) (string, error) {
			ran = append(ran, name)
			return "note of " + name, err
		}}
	}
	boom := errors.New("push rejected")
	git := step("Git", boom)
	git.Hint = "check push access"
	plan := Plan{Steps: []Step{step("Preflight", nil), git, step("Install", nil)}}
	var out bytes.Buffer
	err := plan.Execute(t.Context(), NewPrinter(&out, PrinterOptions{HideDurations: true}))
	var se *StepError
	if !errors.As(err, &se) || se.Step != "Git" || !errors.Is(err, boom) {
		t.Fatalf("err = %v, want a StepError for Git wrapping %v", err, boom)
	}
	if se.Hint() != "check push access" {
		t.Errorf("hint = %q, want the failed step's", se.Hint())
	}
	if len(ran) != 2 {
		t.Errorf("ran %v, want the plan to stop after Git", ran)
	}
	golden.Assert(t, "plan-failure", out.Bytes())
}

func TestPrinterShowsDurations(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p := NewPrinter(&out, PrinterOptions{})
	p.Done("Cluster", "created k3d-dwk", 1234*time.Millisecond)
	if got, want := out.String(), " ✓ Cluster: created k3d-dwk (1.2s)\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPrinterColorOnlyOnTTY(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	NewPrinter(&out, PrinterOptions{Color: true, HideDurations: true}).Done("Git", "", 0)
	if bytes.Contains(out.Bytes(), []byte("\033[")) {
		t.Errorf("colour codes written to a non-TTY: %q", out.String())
	}
}

func TestPrinterSubLines(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p := NewPrinter(&out, PrinterOptions{HideDurations: true})
	p.Start("Cluster")
	p.Sub("creating node k3d-trynew-server-0")
	p.Sub("creating LoadBalancer k3d-trynew-serverlb")
	p.Done("Cluster", "created k3d-trynew", 0)
	golden.Assert(t, "sub-lines", out.Bytes())
}
