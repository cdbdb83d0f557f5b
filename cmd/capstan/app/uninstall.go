package app

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/capstan-gitops/capstan/internal/redact"

	"github.com/urfave/cli/v2"

	"github.com/capstan-gitops/capstan/day2/uninstall"
)

func newUninstallCommand() *cli.Command {
	return &cli.Command{
		Name:  "uninstall",
		Usage: "remove Capstan from the cluster and keep the workloads it applied (git is not touched)",
		Description: "Suspends and deletes every Sync without pruning, then deletes the controller, its RBAC,\n" +
			"the Sync CRD and the capstan-system namespace with everything in it.",
		Flags: append(kubeFlags(),
			&cli.BoolFlag{Name: "dry-run", Usage: "print what would be removed; change nothing"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation"},
			&cli.DurationFlag{Name: "timeout", Value: uninstall.DefaultTimeout, Usage: "how long to wait for each object to be gone"},
		),
		Action: func(c *cli.Context) error {
			kc, err := connect(c)
			if err != nil {
				return err
			}
			opts := uninstall.Options{DryRun: c.Bool("dry-run"), Timeout: c.Duration("timeout")}
			if !opts.DryRun && !c.Bool("yes") {
				if err := confirm(c, "Remove Capstan from "+redact.URL(kc.Config.Host)+"? The workloads it applied stay."); err != nil {
					return err
				}
			}
			return uninstall.Run(c.Context, kc, opts, c.App.Writer)
		},
	}
}

// errNotConfirmed means the user did not answer yes.
var errNotConfirmed = errors.New("uninstall not confirmed: nothing was removed")

// confirm asks a yes/no question on a terminal; without one, --yes is needed.
func confirm(c *cli.Context, question string) error {
	if !isTerminal(c.App.Reader) {
		return errors.New("uninstall needs --yes when it cannot ask for confirmation (stdin is not a terminal)")
	}
	fmt.Fprintf(c.App.ErrWriter, "%s [y/N] ", question)
	answer, _ := bufio.NewReader(c.App.Reader).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return errNotConfirmed
	}
	return nil
}
