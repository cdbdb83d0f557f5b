package k3d

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	k3dconfig "github.com/k3d-io/k3d/v5/pkg/config"
	"github.com/k3d-io/k3d/v5/pkg/config/v1alpha5"
	"github.com/k3d-io/k3d/v5/pkg/runtimes"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"
	"github.com/spf13/viper"
	"sigs.k8s.io/yaml"
)

// LoadConfigFile reads a k3d Simple config (apiVersion k3d.io/v1alpha5,
// kind Simple), as `k3d cluster create --config FILE` does: environment
// variables are expanded, the file is checked against k3d's JSON schema and
// decoded by k3d's own rules.
func LoadConfigFile(path string) (v1alpha5.SimpleConfig, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return v1alpha5.SimpleConfig{}, fmt.Errorf("reading k3d config: %w", err)
	}
	cfg, err := parseConfig([]byte(os.ExpandEnv(string(raw))))
	if err != nil {
		return v1alpha5.SimpleConfig{}, fmt.Errorf("k3d config %s: %w", path, err)
	}
	return cfg, nil
}

func parseConfig(raw []byte) (v1alpha5.SimpleConfig, error) {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(raw, &meta); err != nil {
		return v1alpha5.SimpleConfig{}, err
	}
	if !strings.EqualFold(meta.APIVersion, v1alpha5.ApiVersion) || !strings.EqualFold(meta.Kind, "Simple") {
		return v1alpha5.SimpleConfig{}, fmt.Errorf("want apiVersion %s, kind Simple; got %q, %q", v1alpha5.ApiVersion, meta.APIVersion, meta.Kind)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return v1alpha5.SimpleConfig{}, err
	}
	if err := k3dconfig.ValidateSchemaJSON(js, []byte(v1alpha5.JSONSchema)); err != nil {
		return v1alpha5.SimpleConfig{}, fmt.Errorf("schema: %s", strings.TrimSpace(err.Error()))
	}
	// k3d decodes with viper and mapstructure tags, which differ from the
	// types' JSON tags (token vs clusterToken), so decode the same way.
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(raw)); err != nil {
		return v1alpha5.SimpleConfig{}, err
	}
	return k3dconfig.SimpleConfigFromViper(v)
}

// simpleConfig is what `k3d cluster create` builds from its flags over a
// config file: opts override base (a config file, or zero), and the k3d CLI
// defaults the library lacks are filled in. apiPort and apiHostIP are used
// when neither opts nor base choose them.
func simpleConfig(opts Options, base v1alpha5.SimpleConfig, apiPort int, apiHostIP string) v1alpha5.SimpleConfig {
	c := base
	c.APIVersion, c.Kind = v1alpha5.ApiVersion, "Simple"
	c.Name = clusterName(opts, base)
	c.Image = firstSet(opts.Image, base.Image, DefaultImage)
	if c.Servers <= 0 {
		c.Servers = 1
	}
	if opts.Agents > 0 {
		c.Agents = opts.Agents
	}
	if opts.APIPort > 0 {
		c.ExposeAPI.HostPort = strconv.Itoa(opts.APIPort)
	}
	if c.ExposeAPI.HostPort == "" {
		c.ExposeAPI.HostPort = strconv.Itoa(apiPort)
	}
	if c.ExposeAPI.HostIP == "" {
		c.ExposeAPI.HostIP = apiHostIP
	}
	for _, m := range opts.Ports {
		c.Ports = append(c.Ports, portMapping(m, c.ExposeAPI.HostIP))
	}
	c.Options.K3dOptions.Wait = true
	if opts.Timeout > 0 {
		c.Options.K3dOptions.Timeout = opts.Timeout
	}
	if c.Options.K3dOptions.Timeout <= 0 {
		c.Options.K3dOptions.Timeout = DefaultTimeout
	}
	// The library never writes kubeconfig files; the provider merges the
	// context itself, into the file it was given.
	c.Options.KubeconfigOptions = v1alpha5.SimpleConfigOptionsKubeconfig{}
	return c
}

// portMapping is m as a k3d port flag on the load balancer, published on
// hostIP (where the API port is: loopback for a local engine).
func portMapping(m PortMapping, hostIP string) v1alpha5.PortWithNodeFilters {
	port := fmt.Sprintf("%d:%d", m.HostPort, m.NodePort)
	if hostIP != "" && hostIP != "0.0.0.0" {
		port = hostIP + ":" + port
	}
	return v1alpha5.PortWithNodeFilters{Port: port, NodeFilters: []string{"loadbalancer"}}
}

func clusterName(opts Options, base v1alpha5.SimpleConfig) string {
	return firstSet(opts.Name, base.Name, DefaultName)
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// apiHostIP picks the host address the API port is published on: loopback
// for a local Docker engine, so the admin API is not open to the network,
// and k3d's default (all addresses, reached through the engine's host) for a
// remote one.
func apiHostIP(dockerHost string) string {
	if strings.HasPrefix(dockerHost, "tcp://") || strings.HasPrefix(dockerHost, "ssh://") {
		return ""
	}
	return "127.0.0.1"
}

// clusterConfig runs k3d's own pipeline from Simple config to the cluster
// config that ClusterRun takes: process, transform, process, then Capstan's
// changes (see finishClusterConfig), then validate.
func clusterConfig(ctx context.Context, rt runtimes.Runtime, simple v1alpha5.SimpleConfig, configFile string, images helperImages) (*v1alpha5.ClusterConfig, error) {
	if err := k3dconfig.ProcessSimpleConfig(&simple); err != nil {
		return nil, fmt.Errorf("processing k3d config: %w", err)
	}
	cfg, err := k3dconfig.TransformSimpleToClusterConfig(ctx, rt, simple, configFile)
	if err != nil {
		return nil, fmt.Errorf("transforming k3d config: %w", err)
	}
	cfg, err = k3dconfig.ProcessClusterConfig(*cfg)
	if err != nil {
		return nil, fmt.Errorf("processing k3d cluster config: %w", err)
	}
	finishClusterConfig(cfg, images)
	if err := k3dconfig.ValidateClusterConfig(ctx, rt, *cfg); err != nil {
		return nil, fmt.Errorf("invalid k3d cluster config: %w", err)
	}
	return cfg, nil
}

// finishClusterConfig marks every node as Capstan's, makes creation wait
// for the servers, and pins the load balancer image.
func finishClusterConfig(cfg *v1alpha5.ClusterConfig, images helperImages) {
	if cfg.ClusterCreateOpts.GlobalLabels == nil {
		cfg.ClusterCreateOpts.GlobalLabels = map[string]string{}
	}
	cfg.ClusterCreateOpts.GlobalLabels[OwnerLabel] = OwnerValue
	cfg.ClusterCreateOpts.WaitForServer = true
	if lb := cfg.Cluster.ServerLoadBalancer; lb != nil && lb.Node != nil && images.LoadBalancer != "" {
		lb.Node.Image = images.LoadBalancer
	}
}

// helperImages are the k3d-proxy and k3d-tools images to pin; empty means
// leave the choice to k3d (the user set one of its variables).
type helperImages struct {
	LoadBalancer string
	Tools        string
}

// pinHelperImages decides which helper images to pin. Built as a library,
// k3d has no version, so it would use the "latest" tags; Capstan pins them
// to HelperImageTag unless the user chose through k3d's own variables.
func pinHelperImages(getenv func(string) string) helperImages {
	if getenv(k3dtypes.K3dEnvImageHelperTag) != "" {
		return helperImages{}
	}
	var h helperImages
	if getenv(k3dtypes.K3dEnvImageLoadbalancer) == "" {
		h.LoadBalancer = k3dtypes.DefaultLBImageRepo + ":" + HelperImageTag
	}
	if getenv(k3dtypes.K3dEnvImageTools) == "" {
		h.Tools = k3dtypes.DefaultToolsImageRepo + ":" + HelperImageTag
	}
	return h
}
