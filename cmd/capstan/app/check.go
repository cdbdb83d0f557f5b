package app

import (
	"github.com/capstan-gitops/capstan/internal/checks"
	"github.com/urfave/cli/v2"

	"github.com/capstan-gitops/capstan/day2/check"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
	"github.com/capstan-gitops/capstan/internal/output"
)

func newCheckCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "check Capstan in the cluster: CRD, controller, every Sync (--pre: is the cluster ready for a bootstrap)",
		Flags: append(kubeFlags(), outputFlag(),
			&cli.BoolFlag{Name: "pre", Usage: "check the Kubernetes version, permissions and local prerequisites for a bootstrap"},
			&cli.StringFlag{Name: "k3d", Usage: "with --pre: check what `bootstrap --k3d NAME` needs of Docker before it creates the cluster"},
			&cli.StringFlag{Name: "k3s-image", Usage: "with --k3d: the k3s node image bootstrap would use"},
			&cli.StringFlag{Name: "k3d-config", Usage: "with --k3d: the k3d.io/v1alpha5 Simple config file bootstrap would use"},
			verboseFlag("show every line the libraries log (k3d, Docker) and the full errors of failed checks"),
		),
		Action: func(c *cli.Context) error {
			format, pre := c.String("output"), c.Bool("pre")
			if err := output.Check(format); err != nil {
				return err
			}
			verbose := c.Bool("verbose")
			var sink func(string)
			if verbose {
				sink = subLines(c.App.ErrWriter)
			}
			defer routeLibraryLogs(sink, verbose)()
			rep, err := checkReport(c, pre)
			if perr := check.Print(c.App.Writer, format, rep); perr != nil {
				return perr
			}
			if err != nil {
				return withVerbose(c, err)
			}
			return withVerbose(c, check.Err(rep, pre))
		},
	}
}

// checkReport runs the checks the flags ask for. With --pre --k3d NAME it
// runs bootstrap's preflight of Docker, and the cluster's checks too when
// the k3d cluster exists already.
func checkReport(c *cli.Context, pre bool) (checks.Report, error) {
	if pre && c.String("k3d") != "" {
		p := k3dProvider(c)
		rep := checks.Machine(c.Context, p)
		if !rep.OK {
			return rep, nil
		}
		if exists, err := p.Exists(c.Context); err != nil || !exists {
			return rep, err
		}
		kc, err := kubeclient.Connect(c.Context, kubeclient.Options{Kubeconfig: k3dKubeconfig(c), Context: "k3d-" + c.String("k3d")})
		if err != nil {
			return rep, err
		}
		return join(rep, checks.Pre(c.Context, kc, kc.Config.Host, kc.Version)), nil
	}
	kc, err := connect(c)
	if err != nil {
		return checks.Report{}, err
	}
	if pre {
		return checks.Pre(c.Context, kc, kc.Config.Host, kc.Version), nil
	}
	return check.Installed(c.Context, kc)
}

func join(a, b checks.Report) checks.Report {
	r := checks.Report{Checks: append(append([]checks.Result{}, a.Checks...), b.Checks...)}
	return r.Finish()
}
