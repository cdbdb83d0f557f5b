package kwok

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFlagPorts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []int
	}{
		{"apiserver", []string{"--etcd-servers=http://127.0.0.1:32760", "--secure-port=32756", "--bind-address=0.0.0.0"}, []int{32756}},
		{"etcd", []string{"--listen-client-urls=http://0.0.0.0:32760", "--advertise-client-urls=http://0.0.0.0:32760", "--listen-peer-urls=http://0.0.0.0:32763"}, []int{32760, 32763}},
		{"kwok controller", []string{"--node-port=32758", "--server-address=0.0.0.0:32758", "--node-ip="}, []int{32758}},
		{"none", []string{"--kubeconfig=/tmp/kubeconfig.yaml", "--v=4"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, flagPorts(tt.args)); diff != "" {
				t.Errorf("flagPorts(%q) (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}
