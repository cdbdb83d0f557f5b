package k3d

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/k3d-io/k3d/v5/pkg/config/v1alpha5"
	"github.com/k3d-io/k3d/v5/pkg/runtimes"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"
)

// simpleWant is the part of a Simple config the translation decides.
type simpleWant struct {
	Name, Image             string
	Servers, Agents         int
	HostIP, HostPort, Token string
	Timeout                 time.Duration
	ExtraArgs               int
}

func summarizeSimple(c v1alpha5.SimpleConfig) simpleWant {
	return simpleWant{
		Name: c.Name, Image: c.Image, Servers: c.Servers, Agents: c.Agents,
		HostIP: c.ExposeAPI.HostIP, HostPort: c.ExposeAPI.HostPort, Token: c.ClusterToken,
		Timeout: c.Options.K3dOptions.Timeout, ExtraArgs: len(c.Options.K3sOptions.ExtraArgs),
	}
}

func TestSimpleConfig(t *testing.T) {
	t.Parallel()
	file, err := LoadConfigFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		opts      Options
		base      v1alpha5.SimpleConfig
		apiHostIP string
		want      simpleWant
	}{
		{
			name:      "defaults",
			apiHostIP: "127.0.0.1",
			want:      simpleWant{Name: "capstan", Image: DefaultImage, Servers: 1, HostIP: "127.0.0.1", HostPort: "41000", Timeout: DefaultTimeout},
		},
		{
			name:      "options",
			opts:      Options{Name: "dev", Image: "rancher/k3s:v1.31.4-k3s1", Agents: 2, APIPort: 6443, Timeout: time.Minute},
			apiHostIP: "127.0.0.1",
			want:      simpleWant{Name: "dev", Image: "rancher/k3s:v1.31.4-k3s1", Servers: 1, Agents: 2, HostIP: "127.0.0.1", HostPort: "6443", Timeout: time.Minute},
		},
		{
			name:      "remote docker keeps k3d's host default",
			want:      simpleWant{Name: "capstan", Image: DefaultImage, Servers: 1, HostPort: "41000", Timeout: DefaultTimeout},
			apiHostIP: "",
		},
		{
			name:      "config file values are kept",
			base:      file,
			apiHostIP: "127.0.0.1",
			want: simpleWant{Name: "from-file", Image: "docker.io/rancher/k3s:v1.32.1-k3s1", Servers: 1, Agents: 2,
				HostIP: "0.0.0.0", HostPort: "6550", Token: "s3cret-token", Timeout: 90 * time.Second, ExtraArgs: 1},
		},
		{
			name:      "options override the config file",
			opts:      Options{Name: "dev", Image: "rancher/k3s:v1.31.4-k3s1", Agents: 3, APIPort: 7000, Timeout: time.Minute},
			base:      file,
			apiHostIP: "127.0.0.1",
			want: simpleWant{Name: "dev", Image: "rancher/k3s:v1.31.4-k3s1", Servers: 1, Agents: 3,
				HostIP: "0.0.0.0", HostPort: "7000", Token: "s3cret-token", Timeout: time.Minute, ExtraArgs: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := simpleConfig(tt.opts, tt.base, 41000, tt.apiHostIP)
			if diff := cmp.Diff(tt.want, summarizeSimple(got)); diff != "" {
				t.Errorf("simpleConfig (-want +got):\n%s", diff)
			}
			if got.APIVersion != v1alpha5.ApiVersion || got.Kind != "Simple" || !got.Options.K3dOptions.Wait {
				t.Errorf("simpleConfig: apiVersion %q kind %q wait %t", got.APIVersion, got.Kind, got.Options.K3dOptions.Wait)
			}
		})
	}
}

func TestLoadConfigFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ file, want string }{
		{"testdata/bad-version.yaml", "want apiVersion k3d.io/v1alpha5"},
		{"testdata/bad-schema.yaml", "schema"},
		{"testdata/missing.yaml", "reading k3d config"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			_, err := LoadConfigFile(tt.file)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadConfigFile(%s) = %v, want an error with %q", tt.file, err, tt.want)
			}
		})
	}
}

// TestLoadConfigFileExpandsEnv cannot run in parallel: it sets a variable.
func TestLoadConfigFileExpandsEnv(t *testing.T) {
	t.Setenv("CAPSTAN_TEST_K3D_NAME", "from-env")
	c, err := LoadConfigFile("testdata/env.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "from-env" {
		t.Errorf("name = %q, want from-env", c.Name)
	}
}

// TestClusterConfig runs k3d's own transform on the translation; nothing in
// it needs Docker for a config without volumes.
func TestClusterConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      Options
		images    helperImages
		wantRoles []k3dtypes.Role
		wantLB    string
	}{
		{
			name:      "one server behind the load balancer",
			images:    helperImages{LoadBalancer: "ghcr.io/k3d-io/k3d-proxy:" + HelperImageTag},
			wantRoles: []k3dtypes.Role{k3dtypes.LoadBalancerRole, k3dtypes.ServerRole},
			wantLB:    "ghcr.io/k3d-io/k3d-proxy:" + HelperImageTag,
		},
		{
			name:      "agents, load balancer image left to k3d",
			opts:      Options{Agents: 2},
			wantRoles: []k3dtypes.Role{k3dtypes.LoadBalancerRole, k3dtypes.ServerRole, k3dtypes.AgentRole, k3dtypes.AgentRole},
			wantLB:    k3dtypes.GetLoadbalancerImage(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			simple := simpleConfig(tt.opts, v1alpha5.SimpleConfig{}, 41000, "127.0.0.1")
			cfg, err := clusterConfig(t.Context(), runtimes.Docker, simple, "", tt.images)
			if err != nil {
				t.Fatalf("clusterConfig: %v", err)
			}
			var roles []k3dtypes.Role
			for _, n := range cfg.Cluster.Nodes {
				roles = append(roles, n.Role)
				if (n.Role == k3dtypes.ServerRole || n.Role == k3dtypes.AgentRole) && n.Image != DefaultImage {
					t.Errorf("node %s image %s, want %s", n.Name, n.Image, DefaultImage)
				}
			}
			if diff := cmp.Diff(tt.wantRoles, roles); diff != "" {
				t.Errorf("node roles (-want +got):\n%s", diff)
			}
			if got := cfg.Cluster.ServerLoadBalancer.Node.Image; got != tt.wantLB {
				t.Errorf("load balancer image %s, want %s", got, tt.wantLB)
			}
			if got := cfg.ClusterCreateOpts.GlobalLabels[OwnerLabel]; got != OwnerValue {
				t.Errorf("label %s = %q, want %q", OwnerLabel, got, OwnerValue)
			}
			api := cfg.Cluster.KubeAPI
			if api.Binding.HostIP != "127.0.0.1" || api.Binding.HostPort != "41000" || api.Host != "127.0.0.1" {
				t.Errorf("kube API %s %+v, want 127.0.0.1:41000", api.Host, api.Binding)
			}
			if o := cfg.ClusterCreateOpts; !o.WaitForServer || o.Timeout != DefaultTimeout {
				t.Errorf("create opts wait %t timeout %s, want true %s", o.WaitForServer, o.Timeout, DefaultTimeout)
			}
		})
	}
}

func TestPinHelperImages(t *testing.T) {
	t.Parallel()
	pinnedLB := "ghcr.io/k3d-io/k3d-proxy:" + HelperImageTag
	pinnedTools := "ghcr.io/k3d-io/k3d-tools:" + HelperImageTag
	tests := []struct {
		name string
		env  map[string]string
		want helperImages
	}{
		{name: "nothing set", want: helperImages{LoadBalancer: pinnedLB, Tools: pinnedTools}},
		{name: "helper tag set", env: map[string]string{"K3D_HELPER_IMAGE_TAG": "5.7.0"}},
		{name: "tools image set", env: map[string]string{"K3D_IMAGE_TOOLS": "my/tools:1"}, want: helperImages{LoadBalancer: pinnedLB}},
		{name: "load balancer image set", env: map[string]string{"K3D_IMAGE_LOADBALANCER": "my/lb:1"}, want: helperImages{Tools: pinnedTools}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := pinHelperImages(func(k string) string { return tt.env[k] })
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("pinHelperImages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAPIHostIP(t *testing.T) {
	t.Parallel()
	tests := []struct{ dockerHost, want string }{
		{"unix:///var/run/docker.sock", "127.0.0.1"},
		{"npipe:////./pipe/docker_engine", "127.0.0.1"},
		{"tcp://10.0.0.5:2376", ""},
		{"ssh://me@builder", ""},
	}
	for _, tt := range tests {
		t.Run(tt.dockerHost, func(t *testing.T) {
			t.Parallel()
			if got := apiHostIP(tt.dockerHost); got != tt.want {
				t.Errorf("apiHostIP(%s) = %q, want %q", tt.dockerHost, got, tt.want)
			}
		})
	}
}

// TestClusterConfigPublishesPorts maps a host port to a node port through
// the load balancer, on the API's loopback address.
func TestClusterConfigPublishesPorts(t *testing.T) {
	t.Parallel()
	opts := Options{Ports: []PortMapping{{HostPort: 9292, NodePort: 32292}}}
	simple := simpleConfig(opts, v1alpha5.SimpleConfig{}, 41000, "127.0.0.1")
	if len(simple.Ports) != 1 || simple.Ports[0].Port != "127.0.0.1:9292:32292" || simple.Ports[0].NodeFilters[0] != "loadbalancer" {
		t.Fatalf("simple ports = %+v, want 127.0.0.1:9292:32292@loadbalancer", simple.Ports)
	}
	cfg, err := clusterConfig(t.Context(), runtimes.Docker, simple, "", helperImages{})
	if err != nil {
		t.Fatalf("clusterConfig: %v", err)
	}
	bindings := cfg.Cluster.ServerLoadBalancer.Node.Ports["32292/tcp"]
	if len(bindings) != 1 || bindings[0].HostPort != "9292" || bindings[0].HostIP != "127.0.0.1" {
		t.Errorf("load balancer port 32292/tcp bindings = %+v, want 127.0.0.1:9292", bindings)
	}
}
