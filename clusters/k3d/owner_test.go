package k3d

import (
	"errors"
	"testing"

	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"

	"github.com/capstan-gitops/capstan/clusters"
)

func TestCheckOwned(t *testing.T) {
	t.Parallel()
	marked := map[string]string{OwnerLabel: OwnerValue, "app": "k3d"}
	unmarked := map[string]string{"app": "k3d"}
	node := func(role k3dtypes.Role, labels map[string]string) *k3dtypes.Node {
		return &k3dtypes.Node{Role: role, RuntimeLabels: labels}
	}
	tests := []struct {
		name  string
		nodes []*k3dtypes.Node
		owned bool
	}{
		{name: "created by capstan", nodes: []*k3dtypes.Node{node(k3dtypes.LoadBalancerRole, marked), node(k3dtypes.ServerRole, marked)}, owned: true},
		{name: "agent added by hand later", nodes: []*k3dtypes.Node{node(k3dtypes.ServerRole, marked), node(k3dtypes.AgentRole, unmarked)}, owned: true},
		{name: "created by k3d", nodes: []*k3dtypes.Node{node(k3dtypes.LoadBalancerRole, unmarked), node(k3dtypes.ServerRole, unmarked)}},
		{name: "label on the load balancer only", nodes: []*k3dtypes.Node{node(k3dtypes.LoadBalancerRole, marked), node(k3dtypes.ServerRole, unmarked)}},
		{name: "other value", nodes: []*k3dtypes.Node{node(k3dtypes.ServerRole, map[string]string{OwnerLabel: "someone-else"})}},
		{name: "no nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkOwned(&k3dtypes.Cluster{Name: "dev", Nodes: tt.nodes})
			if tt.owned && err != nil {
				t.Errorf("checkOwned = %v, want nil", err)
			}
			if !tt.owned && !errors.Is(err, clusters.ErrNotOwned) {
				t.Errorf("checkOwned = %v, want ErrNotOwned", err)
			}
		})
	}
}
