package app

import (
	"github.com/urfave/cli/v2"

	"github.com/capstan-gitops/capstan/day2/ui"
)

func newUICommand() *cli.Command {
	return &cli.Command{
		Name:  "ui",
		Usage: "serve a web dashboard of the Syncs on this machine: tree, health, diff, events, sync now",
		Description: "Serves on loopback with your own kubeconfig; nothing is installed in the cluster.\n" +
			"Open the printed URL: it holds the session token, without which every request is refused.",
		Flags: append(append(kubeFlags(), namespaceFlag()),
			&cli.BoolFlag{Name: "all-namespaces", Aliases: []string{"A"}, Usage: "show the Syncs of every namespace"},
			&cli.StringFlag{Name: "address", Value: ui.DefaultAddress, Usage: "host:port to serve on (port 0: a free one)"},
			&cli.BoolFlag{Name: "allow-remote", Usage: "allow an --address that is not loopback (anyone reaching it acts with your kubeconfig)"},
			&cli.BoolFlag{Name: "open", Usage: "open the URL in your browser"},
			&cli.BoolFlag{Name: "read-only", Usage: "show no actions (sync now, suspend, resume) and refuse them"},
		),
		Action: func(c *cli.Context) error {
			opts := ui.Options{Namespace: c.String("namespace"), Address: c.String("address"), AllowRemote: c.Bool("allow-remote"),
				Open: c.Bool("open"), ReadOnly: c.Bool("read-only")}
			if c.Bool("all-namespaces") {
				opts.Namespace = ""
			}
			if _, err := ui.CheckAddress(opts.Address, opts.AllowRemote); err != nil {
				return err
			}
			kc, err := connect(c)
			if err != nil {
				return err
			}
			return ui.Run(c.Context, kc, opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}
