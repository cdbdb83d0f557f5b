package app

import (
	"github.com/capstan-gitops/capstan/internal/checks"
	"github.com/urfave/cli/v2"

	"github.com/capstan-gitops/capstan/day2/check"
	"github.com/capstan-gitops/capstan/internal/output"
)

func newCheckCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "check Capstan in the cluster: CRD, controller, every Sync (--pre: is the cluster ready for a bootstrap)",
		Flags: append(kubeFlags(), outputFlag(),
			&cli.BoolFlag{Name: "pre", Usage: "check the Kubernetes version, permissions and local prerequisites for a bootstrap"},
		),
		Action: func(c *cli.Context) error {
			format, pre := c.String("output"), c.Bool("pre")
			if err := output.Check(format); err != nil {
				return err
			}
			kc, err := connect(c)
			if err != nil {
				return err
			}
			var rep checks.Report
			if pre {
				rep = checks.Pre(c.Context, kc, kc.Config.Host, kc.Version)
			} else {
				rep, err = check.Installed(c.Context, kc)
			}
			if perr := check.Print(c.App.Writer, format, rep); perr != nil {
				return perr
			}
			if err != nil {
				return err
			}
			return check.Err(rep, pre)
		},
	}
}
