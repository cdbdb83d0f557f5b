package app

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/capstan-gitops/capstan/day2/diff"
	"github.com/capstan-gitops/capstan/internal/helm"
	"github.com/capstan-gitops/capstan/internal/output"
)

func newDiffCommand() *cli.Command {
	return &cli.Command{
		Name:  "diff",
		Usage: "show what applying a local directory, or a Sync's current revision, would change",
		Description: "Builds the manifests exactly as the controller does and dry-runs them with server-side apply.\n" +
			"Exit status: 0 no differences, 1 differences, 2 an error, as diff(1).",
		ArgsUsage: "[NAME] (default " + rootSyncName + ", the root Sync)",
		Flags: append(append(kubeFlags(), namespaceFlag(), outputFlag()),
			&cli.StringFlag{Name: "path", Usage: "local directory to build instead of the Sync's source, such as ./clusters/dwk"},
			ageKeyFileFlag("age identity file that decrypts SOPS-encrypted files, as the controller does"),
		),
		Action: func(c *cli.Context) error {
			rep, err := runDiff(c)
			if err != nil {
				return &exitCodeError{code: 2, err: err}
			}
			fmt.Fprintln(c.App.ErrWriter, diff.Summary(rep))
			if rep.HasChanges() {
				return &exitCodeError{code: 1}
			}
			return nil
		},
	}
}

// runDiff computes and prints the report.
func runDiff(c *cli.Context) (diff.Report, error) {
	if err := output.Check(c.String("output")); err != nil {
		return diff.Report{}, err
	}
	key, err := syncKey(c, rootSyncName)
	if err != nil {
		return diff.Report{}, err
	}
	kc, err := connect(c)
	if err != nil {
		return diff.Report{}, err
	}
	ids, err := ageIdentities(c)
	if err != nil {
		return diff.Report{}, err
	}
	rep, err := diff.Run(c.Context, kc, diff.Options{Sync: key, Path: c.String("path"), Identities: ids, Capabilities: helm.DiscoverOnce(kc.Config)})
	if err != nil {
		return rep, err
	}
	return rep, diff.Print(c.App.Writer, c.String("output"), rep)
}
