package app

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/capstan-gitops/capstan/day2/chart"
)

func newChartCommand() *cli.Command {
	return &cli.Command{
		Name:        "chart",
		Usage:       "vendor Helm charts into the repository, where the build renders them from",
		Subcommands: []*cli.Command{newChartPullCommand()},
	}
}

func newChartPullCommand() *cli.Command {
	return &cli.Command{
		Name:  "pull",
		Usage: "vendor a chart into <dir>/<chartHome>/<name>-<version>/<name>/ and pin its helmCharts entry; without NAME, re-pull every pinned entry",
		Description: "Fetches from an HTTP chart repository (its index.yaml) or an OCI registry (oci://REGISTRY/PATH), verifies the digest\n" +
			"the index or the registry names, unpacks the archive after refusing links, ../ and absolute paths and oversized\n" +
			"content, fetches dependencies the chart does not carry, and adds or updates the entry in DIR/kustomization.yaml.\n" +
			"Pulling another version replaces the vendored one: commit, and the Sync upgrades.\n" +
			"Without NAME, every entry is fetched at its pinned version: missing files are written back, and files that differ\n" +
			"from the published chart are listed (exit status 1) and kept, or replaced with --force.\n" +
			"Credentials: CAPSTAN_CHART_USERNAME and CAPSTAN_CHART_PASSWORD, or --username with --password-stdin; they go to the\n" +
			"repository's host only.",
		ArgsUsage: "[NAME]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "repo", Usage: "chart repository URL, or oci://REGISTRY/PATH (default: the entry's repo)"},
			&cli.StringFlag{Name: "version", Usage: "chart version, or a semver range (the highest match is pinned)"},
			&cli.StringFlag{Name: "dir", Value: ".", Usage: "the kustomization's directory"},
			&cli.StringFlag{Name: "release-name", Usage: "releaseName of a new entry (default NAME)"},
			&cli.StringFlag{Name: "username", Usage: "user name for the repository (default $CAPSTAN_CHART_USERNAME)"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input (default $CAPSTAN_CHART_PASSWORD)"},
			&cli.BoolFlag{Name: "force", Usage: "without NAME: replace vendored files that differ from the published chart"},
		},
		Action: func(c *cli.Context) error {
			creds, err := chartCredentials(c)
			if err != nil {
				return err
			}
			switch c.NArg() {
			case 0:
				return repullCharts(c, creds)
			case 1:
			default:
				return errors.New("expected at most one argument: " + c.Command.ArgsUsage)
			}
			if c.Bool("force") {
				return &chart.UserError{Msg: "--force is for re-pulling every entry (no NAME)", Advice: "pulling NAME always replaces its vendored tree"}
			}
			return chart.Pull(c.Context, chart.PullOptions{
				Dir: c.String("dir"), Name: c.Args().First(), Repo: c.String("repo"), Version: c.String("version"),
				ReleaseName: c.String("release-name"), Creds: creds,
			}, c.App.Writer)
		},
	}
}

func repullCharts(c *cli.Context, creds chart.Credentials) error {
	for _, f := range []string{"repo", "version", "release-name"} {
		if c.IsSet(f) {
			return &chart.UserError{Msg: "--" + f + " needs a chart NAME", Advice: "capstan chart pull NAME --" + f + " …; without NAME every entry is re-pulled at its pinned version"}
		}
	}
	report, err := chart.Repull(c.Context, chart.RepullOptions{Dir: c.String("dir"), Creds: creds, Force: c.Bool("force")})
	report.Print(c.App.Writer)
	if err != nil {
		return err
	}
	if report.Differs() {
		return &exitCodeError{code: 1}
	}
	return nil
}

// chartCredentials reads the user name from --username or the
// environment, and the password from standard input or the environment:
// never from a flag, which would show in the process list and history.
func chartCredentials(c *cli.Context) (chart.Credentials, error) {
	creds := chart.Credentials{Username: os.Getenv("CAPSTAN_CHART_USERNAME"), Password: os.Getenv("CAPSTAN_CHART_PASSWORD")}
	if c.IsSet("username") {
		creds.Username = c.String("username")
	}
	if c.Bool("password-stdin") {
		line, err := bufio.NewReader(c.App.Reader).ReadString('\n')
		if err != nil && line == "" {
			return chart.Credentials{}, fmt.Errorf("reading the password from standard input: %w", err)
		}
		creds.Password = strings.TrimRight(line, "\r\n")
	}
	if creds.Password != "" && creds.Username == "" {
		return chart.Credentials{}, &chart.UserError{Msg: "a password is given without a user name", Advice: "set CAPSTAN_CHART_USERNAME or --username"}
	}
	return creds, nil
}

// chartNameLast moves the NAME of `capstan chart pull` after the flags,
// wherever it is among them, as urfave/cli expects it.
func chartNameLast(args []string) []string {
	takesValue := map[string]bool{"--repo": true, "--version": true, "--dir": true, "--release-name": true, "--username": true}
	for i := 3; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return args
		case strings.HasPrefix(a, "-"):
			if takesValue[a] {
				i++
			}
		default:
			out := append(append([]string{}, args[:i]...), args[i+1:]...)
			return append(out, a)
		}
	}
	return args
}
