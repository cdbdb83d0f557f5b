package app

import (
	"errors"
	"os"

	"github.com/go-logr/logr"
	"github.com/urfave/cli/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/capstan-gitops/capstan/drill"
	"github.com/capstan-gitops/capstan/internal/output"
	"github.com/capstan-gitops/capstan/internal/steps"
	"github.com/capstan-gitops/capstan/internal/version"
)

func newDrillCommand() *cli.Command {
	return &cli.Command{
		Name:      "drill",
		Usage:     "rehearse a disaster recovery: rebuild the cluster from git in a throwaway simulated cluster and report",
		UsageText: "capstan drill --url URL [--path clusters/NAME] [--branch main] [--age-key-file FILE] [credentials] [-o text|json|yaml]",
		Description: "Clones the repository (never pushes), creates a throwaway kwok cluster from the control-plane\n" +
			"binaries (`make kube-bins`, or CAPSTAN_KUBE_BIN), installs the controller components committed under\n" +
			"<path>/capstan-system (this CLI's own when the repository has none, and the report says so), runs the\n" +
			"controller in this process and waits until every Sync is Ready. The report lists each Sync with its\n" +
			"revision, object count and time to Ready, and every problem found: custom resources without their CRD,\n" +
			"namespaces, Secrets, ConfigMaps and ServiceAccounts that nothing in git creates, health checks that never\n" +
			"pass, SOPS-encrypted files that the age key given (--age-key-file, or none) does not open, with the\n" +
			"recipients they were encrypted for. The throwaway cluster is always deleted.\n" +
			"Exit status: 0 the repository rebuilt a fully Ready cluster; 1 it did not, or the drill could not run.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "url", Usage: "cluster-config repository (https://, ssh:// or git@host:path), or a local clone of it (its origin is used)", Required: true},
			&cli.StringFlag{Name: "branch", Value: "main", Usage: "branch to rebuild from"},
			&cli.StringFlag{Name: "path", Usage: "directory of the cluster in the repository (default: the only one holding capstan-system/)"},
			&cli.DurationFlag{Name: "timeout", Value: drill.DefaultTimeout, Usage: "how long the Syncs may take to become Ready"},
			ageKeyFileFlag("age identity file (age-keygen) that decrypts the repository's SOPS-encrypted files, as bootstrap --age-key-file: check your key backup"),
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show the controller's logs on stderr"},
			outputFlag(),
		}, gitCredentialFlags("SSH private key for the repository")...),
		Action: func(c *cli.Context) error {
			format := c.String("output")
			if err := output.Check(format); err != nil {
				return err
			}
			opts, err := drillOptions(c)
			if err != nil {
				return err
			}
			// controller-runtime's parts that take no logger use its global
			// one, and complain on stderr after 30 s when nobody set it.
			ctrllog.SetLogger(opts.Logger)
			stderr := c.App.ErrWriter
			tty := isTerminal(stderr)
			printer := steps.NewPrinter(stderr, steps.PrinterOptions{TTY: tty, Color: tty && os.Getenv("NO_COLOR") == ""})
			rep, err := drill.Run(c.Context, opts, printer)
			if rep != nil {
				if perr := drill.Print(c.App.Writer, format, rep); perr != nil {
					return errors.Join(err, perr)
				}
			}
			return err
		},
	}
}

func drillOptions(c *cli.Context) (drill.Options, error) {
	auth, err := gitAuth(c)
	if err != nil {
		return drill.Options{}, err
	}
	url, err := repositoryURL(c.String("url"))
	if err != nil {
		return drill.Options{}, err
	}
	ageKey, err := ageKeyFile(c)
	if err != nil {
		return drill.Options{}, err
	}
	logger := logr.Discard()
	if c.Bool("verbose") {
		if logger, err = newLogger(c.App.ErrWriter, "info", "text"); err != nil {
			return drill.Options{}, err
		}
	}
	return drill.Options{
		URL: url, Branch: c.String("branch"), Path: c.String("path"), Insecure: c.Bool("insecure"),
		Auth:          auth,
		AgeKey:        ageKey,
		AcceptHostKey: c.Bool("accept-host-key"),
		Timeout:       c.Duration("timeout"),
		CLIVersion:    labelSafe(version.Get().Version),
		Logger:        logger,
	}, nil
}
