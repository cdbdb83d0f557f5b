package k3d

import (
	"fmt"

	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"

	"github.com/capstan-gitops/capstan/clusters"
)

// OwnerLabel marks the containers of clusters Capstan created; Delete
// refuses clusters whose server nodes lack it. It has to start with "k3d.":
// when the library reads nodes back from Docker it keeps only k3d.* labels.
const (
	OwnerLabel = "k3d.capstan.created-by"
	OwnerValue = "capstan"
)

// checkOwned allows deleting a cluster only when one of its server nodes
// carries Capstan's label. Nodes added later by hand (k3d node create) lack
// it, so one marked server is enough.
func checkOwned(c *k3dtypes.Cluster) error {
	for _, n := range c.Nodes {
		if n.Role == k3dtypes.ServerRole && n.RuntimeLabels[OwnerLabel] == OwnerValue {
			return nil
		}
	}
	return fmt.Errorf("%w: k3d cluster %s has no %s=%s label; if you mean to, run `k3d cluster delete %s`",
		clusters.ErrNotOwned, c.Name, OwnerLabel, OwnerValue, c.Name)
}
