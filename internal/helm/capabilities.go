package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// Capabilities are what a cluster shows a chart's templates as
// .Capabilities, as `helm install` reads them through discovery: the
// server's version and every served group/version and group/version/Kind.
type Capabilities struct {
	// KubeVersion is the server's git version, such as v1.37.2.
	KubeVersion string
	// Major and Minor are the server's own major and minor versions
	// (.Capabilities.KubeVersion.Major and .Minor); empty means those of
	// KubeVersion.
	Major, Minor string
	// APIVersions are the served group/versions ("v1", "apps/v1") and
	// group/version/Kinds ("apps/v1/Deployment"), sorted.
	APIVersions []string
}

// Discover reads the capabilities of the cluster dc talks to, as `helm
// install` does: one server version request and one discovery of the
// served groups and resources. A group whose discovery fails (an
// aggregated API without a backend) is left out, as Helm leaves it out.
func Discover(dc discovery.DiscoveryInterface) (*Capabilities, error) {
	v, err := dc.ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("reading the server version: %w", err)
	}
	set, err := action.GetVersionSet(dc)
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, fmt.Errorf("discovering the served API versions: %w", err)
	}
	versions := slices.Clone([]string(set))
	slices.Sort(versions)
	return &Capabilities{KubeVersion: v.GitVersion, Major: v.Major, Minor: v.Minor, APIVersions: slices.Compact(versions)}, nil
}

// DiscoverOnce returns a function that reads the capabilities of the
// cluster cfg connects to on its first call (see [Discover]) and returns
// the same result on the next ones: what a command that renders charts
// once needs.
func DiscoverOnce(cfg *rest.Config) func(context.Context) (*Capabilities, error) {
	once := sync.OnceValues(func() (*Capabilities, error) {
		dc, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("creating a discovery client: %w", err)
		}
		return Discover(dc)
	})
	return func(context.Context) (*Capabilities, error) { return once() }
}

// DiscoverEach is DiscoverOnce for a long-running process that renders on
// demand (the dashboard's diff page): each call discovers anew, so a render
// sees the APIs the cluster serves at that moment, never a stale list.
func DiscoverEach(cfg *rest.Config) func(context.Context) (*Capabilities, error) {
	return func(context.Context) (*Capabilities, error) {
		dc, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("creating a discovery client: %w", err)
		}
		return Discover(dc)
	}
}

// Digest identifies the capabilities: two renders of the same chart with
// capabilities of the same digest give the same output. A nil value has
// the digest "".
func (c *Capabilities) Digest() string {
	if c == nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s", c.KubeVersion, c.Major, c.Minor, strings.Join(c.APIVersions, "\x00"))
	return hex.EncodeToString(h.Sum(nil))
}

// kubeVersion is the cluster's version as Helm's capabilities hold it.
func (c *Capabilities) kubeVersion() (common.KubeVersion, error) {
	v, err := common.ParseKubeVersion(c.KubeVersion)
	if err != nil {
		return common.KubeVersion{}, fmt.Errorf("the cluster's version %q: %w", c.KubeVersion, err)
	}
	if c.Major != "" && c.Minor != "" {
		v.Major, v.Minor = c.Major, c.Minor
	}
	return *v, nil
}

// capabilities are what the templates of c see: a field the chart's
// entry gives wins (apiVersions then add to Helm's defaults, as `helm
// template --api-versions` does); a field it omits is the cluster's. Nil
// when c names no cluster: `helm template`'s defaults, with the entry's
// fields, apply.
func capabilities(c Chart) (*common.Capabilities, error) {
	if c.Cluster == nil {
		return nil, nil
	}
	caps := &common.Capabilities{HelmVersion: common.DefaultCapabilities.HelmVersion}
	var err error
	if c.KubeVersion != "" {
		v, err := common.ParseKubeVersion(c.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("kubeVersion %q: %w", c.KubeVersion, err)
		}
		caps.KubeVersion = *v
	} else if caps.KubeVersion, err = c.Cluster.kubeVersion(); err != nil {
		return nil, err
	}
	if len(c.APIVersions) > 0 {
		caps.APIVersions = append(slices.Clone(common.DefaultVersionSet), c.APIVersions...)
	} else {
		caps.APIVersions = slices.Clone(common.VersionSet(c.Cluster.APIVersions))
	}
	return caps, nil
}
