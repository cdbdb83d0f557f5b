package app

import (
	"fmt"
	"strings"

	"github.com/capstan-gitops/capstan/components/repo"

	"github.com/urfave/cli/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
)

// kubeFlags are the cluster flags of the day-2 commands, as kubectl spells
// them. KUBECONFIG is read by the loading rules when --kubeconfig is empty,
// so that a list of files works as it does for kubectl.
func kubeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "kubeconfig", Usage: "kubeconfig file (default $KUBECONFIG, then ~/.kube/config)"},
		&cli.StringFlag{Name: "context", Usage: "kubeconfig context (default: the current context)"},
	}
}

// namespaceFlag selects the namespace of the Syncs; Capstan's own is the
// default, as flux-system is for flux.
func namespaceFlag() cli.Flag {
	return &cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: manifests.Namespace, Usage: "namespace of the Sync"}
}

// connect reaches the cluster the flags select.
func connect(c *cli.Context) (*kubeclient.Client, error) {
	return kubeclient.Connect(c.Context, kubeclient.Options{Kubeconfig: c.String("kubeconfig"), Context: c.String("context")})
}

// syncArg returns the optional Sync name argument. urfave/cli stops
// parsing flags at the first argument, so a flag after the name is refused
// rather than ignored.
func syncArg(c *cli.Context) (string, error) {
	args := c.Args().Slice()
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return "", fmt.Errorf("flag %s after the name: put flags first, as in `capstan %s [flags] NAME`", a, c.Command.FullName())
		}
	}
	if len(args) > 1 {
		return "", fmt.Errorf("capstan %s takes one Sync name, got %d arguments", c.Command.Name, len(args))
	}
	return c.Args().First(), nil
}

// syncKey returns the Sync named by the argument, or def when there is none.
func syncKey(c *cli.Context, def string) (client.ObjectKey, error) {
	name, err := syncArg(c)
	if err != nil {
		return client.ObjectKey{}, err
	}
	if name == "" {
		name = def
	}
	if name == "" {
		return client.ObjectKey{}, fmt.Errorf("capstan %s needs the name of a Sync", c.Command.Name)
	}
	return client.ObjectKey{Namespace: c.String("namespace"), Name: name}, nil
}

// rootSyncName is the default Sync of reconcile and diff.
const rootSyncName = repo.RootSyncName
