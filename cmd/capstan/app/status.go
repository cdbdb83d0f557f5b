package app

import (
	"github.com/urfave/cli/v2"

	"github.com/capstan-gitops/capstan/day2/syncs"
	"github.com/capstan-gitops/capstan/internal/output"
)

func newStatusCommand() *cli.Command {
	return &cli.Command{
		Name:      "status",
		Aliases:   []string{"get"},
		Usage:     "show the Syncs: readiness, revision, last run; with NAME, its objects and events",
		ArgsUsage: "[NAME]",
		Flags: append(kubeFlags(), namespaceFlag(), outputFlag(),
			&cli.BoolFlag{Name: "all-namespaces", Aliases: []string{"A"}, Usage: "show the Syncs of every namespace"},
			&cli.BoolFlag{Name: "watch", Aliases: []string{"w"}, Usage: "keep printing rows as Syncs change, until interrupted"},
		),
		Action: func(c *cli.Context) error {
			name, err := syncArg(c)
			if err != nil {
				return err
			}
			if err := output.Check(c.String("output")); err != nil {
				return err
			}
			kc, err := connect(c)
			if err != nil {
				return err
			}
			return syncs.Status(c.Context, kc, syncs.StatusOptions{
				Namespace: c.String("namespace"), AllNamespaces: c.Bool("all-namespaces"), Name: name,
				Output: c.String("output"), Watch: c.Bool("watch"),
			}, c.App.Writer)
		},
	}
}
