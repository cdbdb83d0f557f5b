package app

import (
	"github.com/urfave/cli/v2"

	"github.com/capstan-gitops/capstan/day2/syncs"
	"github.com/capstan-gitops/capstan/internal/output"
)

func waitFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "wait", Value: true, Usage: "wait for the controller's outcome (--wait=false only asks)"},
		&cli.DurationFlag{Name: "timeout", Value: syncs.DefaultReconcileTimeout, Usage: "how long to wait for the outcome"},
		outputFlag(),
	}
}

func reconcileOptions(c *cli.Context, def string) (syncs.ReconcileOptions, error) {
	key, err := syncKey(c, def)
	if err != nil {
		return syncs.ReconcileOptions{}, err
	}
	return syncs.ReconcileOptions{Key: key, Wait: c.Bool("wait"), Timeout: c.Duration("timeout"), Output: c.String("output")},
		output.Check(c.String("output"))
}

func newReconcileCommand() *cli.Command {
	return &cli.Command{
		Name:      "reconcile",
		Usage:     "sync now: ask the controller to reconcile a Sync and wait for the outcome",
		ArgsUsage: "[NAME] (default " + rootSyncName + ", the root Sync)",
		Flags:     append(append(kubeFlags(), namespaceFlag()), waitFlags()...),
		Action: func(c *cli.Context) error {
			opts, err := reconcileOptions(c, rootSyncName)
			if err != nil {
				return err
			}
			kc, err := connect(c)
			if err != nil {
				return err
			}
			return syncs.Reconcile(c.Context, kc, opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func newSuspendCommand() *cli.Command {
	return &cli.Command{
		Name:      "suspend",
		Usage:     "stop reconciling a Sync (and correcting drift) until it is resumed",
		ArgsUsage: "NAME",
		Flags:     append(kubeFlags(), namespaceFlag()),
		Action: func(c *cli.Context) error {
			key, err := syncKey(c, "")
			if err != nil {
				return err
			}
			kc, err := connect(c)
			if err != nil {
				return err
			}
			return syncs.Suspend(c.Context, kc, key, c.App.Writer)
		},
	}
}

func newResumeCommand() *cli.Command {
	return &cli.Command{
		Name:      "resume",
		Usage:     "resume a suspended Sync, reconcile it now and wait for the outcome",
		ArgsUsage: "NAME",
		Flags:     append(append(kubeFlags(), namespaceFlag()), waitFlags()...),
		Action: func(c *cli.Context) error {
			opts, err := reconcileOptions(c, "")
			if err != nil {
				return err
			}
			kc, err := connect(c)
			if err != nil {
				return err
			}
			return syncs.Resume(c.Context, kc, opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}
