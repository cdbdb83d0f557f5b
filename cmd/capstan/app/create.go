package app

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/capstan-gitops/capstan/day2/create"
	"github.com/capstan-gitops/capstan/day2/syncs"
)

func newCreateCommand() *cli.Command {
	return &cli.Command{
		Name:        "create",
		Usage:       "write a new object: `capstan create sync`",
		Subcommands: []*cli.Command{newCreateSyncCommand()},
	}
}

func newCreateSyncCommand() *cli.Command {
	return &cli.Command{
		Name:  "sync",
		Usage: "make a Sync: print its manifest to commit (--export), or apply it and wait for Ready",
		Description: "With --export, prints the Sync for you to commit under the cluster's path (the GitOps way).\n" +
			"Without, applies it to the cluster and waits for the outcome; it is then not in git.",
		ArgsUsage: "NAME",
		Flags: append(append(kubeFlags(), namespaceFlag()),
			&cli.StringFlag{Name: "url", Usage: "URL of the Git repository (https://, ssh:// or user@host:path)"},
			&cli.StringFlag{Name: "branch", Usage: "branch to follow (the default: main)"},
			&cli.StringFlag{Name: "tag", Usage: "tag to check out"},
			&cli.StringFlag{Name: "semver", Usage: "follow the newest tag in a semver range, such as \">=1.0.0\""},
			&cli.StringFlag{Name: "commit", Usage: "full commit hash to check out"},
			&cli.StringFlag{Name: "path", Usage: "directory of the repository to apply"},
			&cli.StringFlag{Name: "target-namespace", Usage: "namespace for objects without one (created if git does not declare it)"},
			&cli.StringSliceFlag{Name: "substitute", Usage: "NAME=VALUE variable for ${NAME} in the built objects (repeatable)"},
			&cli.StringSliceFlag{Name: "substitute-from", Usage: "configmap/NAME or secret/NAME holding variables, NAME? if optional (repeatable)"},
			&cli.StringSliceFlag{Name: "depends-on", Usage: "Sync in the same namespace that must be Ready first (repeatable)"},
			&cli.DurationFlag{Name: "interval", Usage: "time between reconciles (default 1m)"},
			&cli.BoolFlag{Name: "prune", Value: true, Usage: "delete what left git (--prune=false keeps it)"},
			&cli.StringFlag{Name: "secret-ref", Usage: "Secret in the Sync's namespace with the repository's credentials"},
			&cli.BoolFlag{Name: "export", Usage: "print the manifest instead of applying it"},
			&cli.DurationFlag{Name: "timeout", Value: syncs.DefaultReconcileTimeout, Usage: "how long to wait for the outcome"},
		),
		Action: func(c *cli.Context) error {
			name, err := syncArg(c)
			if err != nil {
				return err
			}
			opts := create.SyncOptions{
				Name: name, Namespace: c.String("namespace"), URL: c.String("url"),
				Branch: c.String("branch"), Tag: c.String("tag"), Semver: c.String("semver"), Commit: c.String("commit"),
				Path: c.String("path"), TargetNamespace: c.String("target-namespace"),
				Substitute: c.StringSlice("substitute"), SubstituteFrom: c.StringSlice("substitute-from"),
				DependsOn: c.StringSlice("depends-on"), Interval: c.Duration("interval"), SecretRef: c.String("secret-ref"),
			}
			if c.IsSet("prune") {
				prune := c.Bool("prune")
				opts.Prune = &prune
			}
			s, err := create.Sync(opts)
			if err != nil {
				return err
			}
			if c.Bool("export") {
				return create.Export(c.App.Writer, s)
			}
			kc, err := connect(c)
			if err != nil {
				return err
			}
			return create.Apply(c.Context, kc, s, c.Duration("timeout"), c.App.Writer, c.App.ErrWriter)
		},
	}
}

// createNameLast moves the NAME (FILE) of `capstan create sync NAME --flags…`
// and of `capstan secret create|encrypt|decrypt` after
// the flags, where urfave/cli (which stops parsing flags at the first
// argument) expects it, so that both orders work as documented.
func createNameLast(args []string) []string {
	if len(args) > 3 && args[1] == "chart" && args[2] == "pull" {
		return chartNameLast(args)
	}
	nameFirst := map[string]bool{"create sync": true, "secret create": true, "secret encrypt": true, "secret decrypt": true}
	if len(args) < 5 || !nameFirst[args[1]+" "+args[2]] || strings.HasPrefix(args[3], "-") {
		return args
	}
	out := append(append([]string{}, args[:3]...), args[4:]...)
	return append(out, args[3])
}
