// Package app wires Capstan's command-line interface: it turns arguments into
// calls of the library packages and is the only place that exits the process.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Main runs the CLI with the process's arguments and standard streams, and
// exits with its status. It is the only function in Capstan that exits.
func Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// Run executes the CLI with args (args[0] is the program name), writing
// results to stdout and progress and errors to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return newApp(stdout, stderr).RunContext(ctx, createNameLast(args))
}

// exitCodeError carries a specific exit status, such as diff's 1 for
// "differences found", without being reported as an error.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitCodeError) Unwrap() error { return e.err }

// exitCode prints err as one line on stderr and returns the process status.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	code := 1
	var ec *exitCodeError
	if errors.As(err, &ec) {
		if code, err = ec.code, ec.err; err == nil {
			return code // a status without an error, such as diff's "differences found"
		}
	}
	fmt.Fprintf(stderr, "error: %v\n", err)
	var h hinter
	if errors.As(err, &h) && h.Hint() != "" {
		fmt.Fprintf(stderr, "hint: %s\n", h.Hint())
	}
	if d := detail(err); d != "" {
		fmt.Fprintf(stderr, "detail: %s\n", d)
	}
	return code
}

// hinter is an error that knows what the user should do next.
type hinter interface {
	error
	Hint() string
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:                 "capstan",
		Usage:                "bootstrap a Kubernetes cluster from git and keep it in sync",
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		HideVersion:          true,
		// Errors are printed once, by Main; urfave must neither print nor exit.
		ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{
			newVersionCommand(),
			newCompletionCommand(),
			newControllerCommand(),
			newInstallCommand(),
			newBootstrapCommand(),
			newCreateCommand(),
			newStatusCommand(),
			newReconcileCommand(),
			newSuspendCommand(),
			newResumeCommand(),
			newDiffCommand(),
			newUICommand(),
			newCheckCommand(),
			newUninstallCommand(),
			newDrillCommand(),
			newSecretCommand(),
			newChartCommand(),
		},
	}
}
