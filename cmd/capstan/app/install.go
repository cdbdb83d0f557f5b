package app

import (
	"errors"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/version"
)

func newInstallCommand() *cli.Command {
	return &cli.Command{
		Name:  "install",
		Usage: "print the controller's component manifests (the same render bootstrap commits)",
		Description: "Commit the output as <path>/capstan-system/components.yaml to upgrade through git:\n" +
			"the running controller applies its own new version.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "export", Usage: "print the manifests to stdout (required: install applies through bootstrap or git)"},
			&cli.StringFlag{Name: "version", Usage: "controller version to render (default: this CLI's version)"},
			&cli.StringFlag{Name: "image", Usage: "controller image (default: " + manifests.ImageRepository + ":<version>)"},
			&cli.StringFlag{Name: "log-level", Value: manifests.DefaultLogLevel, Usage: "controller log level: debug, info or error"},
		},
		Action: func(c *cli.Context) error {
			if !c.Bool("export") {
				return errors.New("install needs --export: capstan installs into a cluster through `capstan bootstrap`, and upgrades through git")
			}
			v := c.String("version")
			if v == "" {
				v = version.Get().Version
			}
			opts := manifests.DefaultOptions(labelSafe(v))
			opts.Image = c.String("image")
			opts.LogLevel = c.String("log-level")
			out, err := manifests.RenderYAML(opts)
			if err != nil {
				return err
			}
			_, err = c.App.Writer.Write(out)
			return err
		},
	}
}

// labelSafe turns a Go module version into a valid label value
// ("v1.2.3+incompatible" → "v1.2.3-incompatible").
func labelSafe(v string) string {
	return strings.NewReplacer("+", "-", "(", "", ")", "").Replace(v)
}
