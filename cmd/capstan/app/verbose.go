package app

import (
	"errors"
	"fmt"
	"io"

	k3dlogger "github.com/k3d-io/k3d/v5/pkg/logger"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/capstan-gitops/capstan/internal/liblog"
	"github.com/capstan-gitops/capstan/internal/steps"
)

func verboseFlag(usage string) cli.Flag {
	return &cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: usage}
}

// routeLibraryLogs sends what k3d (its own logrus logger), the Docker
// client (logrus' standard logger) and kustomize (the standard log) log on
// their own to sink, one line each: short, or all in full with verbose.
// Those loggers are process-wide, so this is the one place that changes
// them, for the length of one command; restore puts them back.
func routeLibraryLogs(sink func(string), verbose bool) (restore func()) {
	return liblog.Router{Sink: sink, Verbose: verbose}.Route(k3dlogger.Log(), logrus.StandardLogger())
}

// subLines writes library log lines to w as the step printer's sub-lines
// do, for commands without steps.
func subLines(w io.Writer) func(string) {
	return func(line string) { fmt.Fprint(w, steps.SubPrefix+line+"\n") }
}

// verboseError marks the error of a command run with --verbose: exitCode
// prints the full error underneath the one line.
type verboseError struct{ error }

func (e verboseError) Unwrap() error { return e.error }

// withVerbose marks err when the command runs with --verbose.
func withVerbose(c *cli.Context, err error) error {
	if err == nil || !c.Bool("verbose") {
		return err
	}
	return verboseError{err}
}

// detailer is an error that holds more than its one line.
type detailer interface {
	Detail() string
}

// detail is the full error under err's line, for --verbose; empty when
// the command ran without it or the line says everything.
func detail(err error) string {
	var v verboseError
	var d detailer
	if !errors.As(err, &v) || !errors.As(err, &d) {
		return ""
	}
	return d.Detail()
}
