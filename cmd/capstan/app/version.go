package app

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/capstan-gitops/capstan/internal/output"
	"github.com/capstan-gitops/capstan/internal/version"
)

func newVersionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, git commit and Go version of this build",
		Flags: []cli.Flag{outputFlag()},
		Action: func(c *cli.Context) error {
			return printVersion(c.App.Writer, c.String("output"), version.Get())
		},
	}
}

func printVersion(w io.Writer, format string, info version.Info) error {
	if !output.IsText(format) {
		return output.Write(w, format, info)
	}
	_, err := fmt.Fprintf(w, "capstan %s\ncommit: %s\ngo: %s\nplatform: %s\n", info.Version, info.Commit, info.GoVersion, info.Platform)
	return err
}
