package k3d

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/go-connections/nat"
	"github.com/k3d-io/k3d/v5/pkg/config/v1alpha5"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"

	"github.com/capstan-gitops/capstan/internal/checks"
)

// RegistryTimeout bounds asking a registry whether it has an image: one
// that does not answer in time counts as one that cannot be pulled.
const RegistryTimeout = 5 * time.Second

// ProbeLabel marks the container the privileged check starts and removes.
const ProbeLabel = "io.capstan.preflight"

// probeEntrypoint is a path no image has: the probe container fails right
// after the engine applied its privileges, so nothing of the image runs.
const probeEntrypoint = "/capstan-preflight-probe"

// Probe checks, before anything is created, what a new k3d cluster needs of
// Docker: the engine answers; the name is free, or taken by a cluster
// Capstan made (which is then reused, and nothing more is checked); the
// k3s, k3d-tools and k3d-proxy images are present or can be pulled; the
// engine starts a privileged container; the host ports are free. Each
// failed check says what to do. It implements checks.Prober.
func (p *Provider) Probe(ctx context.Context, r *checks.Report) {
	cli, endpoint, err := connectDocker(ctx)
	if err != nil {
		r.Append(failure("docker", err))
		return
	}
	defer cli.Close()
	r.Add("docker", true, "answers at %s", endpoint)
	base, err := p.base()
	if err != nil {
		r.Append(checks.Result{Name: "k3d config", Message: err.Error(), Hint: "fix the file given with --k3d-config"})
		return
	}
	simple := simpleConfig(p.opts, base, 0, apiHostIP(endpoint))
	if reused := p.probeName(ctx, r, simple.Name); reused {
		return
	}
	tools, proxy := helperImageRefs(os.Getenv)
	present := probeImages(ctx, cli, r, []wantedImage{
		{check: "image k3s", ref: simple.Image}, {check: "image k3d-tools", ref: tools}, {check: "image k3d-proxy", ref: proxy},
	})
	probePrivileged(ctx, cli, r, present)
	if apiHostIP(endpoint) != "" {
		probePorts(r, simple)
	}
}

// failure is a failed check from an error that may name its cause.
func failure(name string, err error) checks.Result {
	res := checks.Result{Name: name, Message: err.Error()}
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		res.Hint = h.Hint()
	}
	var d interface{ Detail() string }
	if errors.As(err, &d) {
		res.Detail = d.Detail()
	}
	return res
}

// probeName reports whether the cluster exists already. One that Capstan
// did not create is used as it is, like any cluster reached through a
// kubeconfig: bootstrap installs into it and Capstan never deletes it.
func (p *Provider) probeName(ctx context.Context, r *checks.Report, name string) (reused bool) {
	c, found, err := p.get(ctx, name)
	switch {
	case err != nil:
		r.Append(checks.Result{Name: "k3d cluster", Message: "cannot look up " + name, Detail: err.Error()})
		return true
	case !found:
		r.Add("k3d cluster", true, "%s does not exist yet: it will be created", name)
		return false
	case checkOwned(c) != nil:
		r.Add("k3d cluster", true, "%s exists, created outside capstan: bootstrap installs into it and capstan never deletes it", name)
		return true
	}
	r.Add("k3d cluster", true, "%s exists and was created by capstan: it is reused", name)
	return true
}

// helperImageRefs are the k3d-tools and k3d-proxy images a new cluster
// uses: k3d's variables when set, otherwise the pinned ones.
func helperImageRefs(getenv func(string) string) (tools, proxy string) {
	h := pinHelperImages(getenv)
	tag := firstSet(getenv(k3dtypes.K3dEnvImageHelperTag), HelperImageTag)
	tools = firstSet(getenv(k3dtypes.K3dEnvImageTools), h.Tools, k3dtypes.DefaultToolsImageRepo+":"+tag)
	proxy = firstSet(getenv(k3dtypes.K3dEnvImageLoadbalancer), h.LoadBalancer, k3dtypes.DefaultLBImageRepo+":"+tag)
	return tools, proxy
}

type wantedImage struct{ check, ref string }

// probeImages checks the images at once and returns those present.
func probeImages(ctx context.Context, cli client.APIClient, r *checks.Report, want []wantedImage) []string {
	results := make([]checks.Result, len(want))
	present := make([]bool, len(want))
	var wg sync.WaitGroup
	for i, w := range want {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], present[i] = probeImage(ctx, cli, w)
		}()
	}
	wg.Wait()
	var refs []string
	for i, res := range results {
		r.Append(res)
		if present[i] {
			refs = append(refs, want[i].ref)
		}
	}
	return refs
}

func probeImage(ctx context.Context, cli client.APIClient, w wantedImage) (checks.Result, bool) {
	_, _, err := cli.ImageInspectWithRaw(ctx, w.ref)
	if err == nil {
		return checks.Result{Name: w.check, OK: true, Message: w.ref + " is present"}, true
	}
	if !errdefs.IsNotFound(err) {
		return checks.Result{Name: w.check, Message: "cannot inspect " + w.ref, Detail: err.Error()}, false
	}
	rctx, cancel := context.WithTimeout(ctx, RegistryTimeout)
	defer cancel()
	if _, err := cli.DistributionInspect(rctx, w.ref, ""); err != nil {
		if rctx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("the registry did not answer within %s: %w", RegistryTimeout, err)
		}
		return checks.Result{
			Name: w.check, Message: fmt.Sprintf("%s is not present and cannot be pulled (%s)", w.ref, pullReason(err)),
			Hint: hintImage, Detail: err.Error(),
		}, false
	}
	return checks.Result{Name: w.check, OK: true, Message: w.ref + " can be pulled"}, false
}

// pullReason is why a registry did not give an image, in a few words.
func pullReason(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "did not answer within"):
		return fmt.Sprintf("the registry did not answer within %s", RegistryTimeout)
	case strings.Contains(msg, "no such host"):
		return "the registry's name does not resolve: offline?"
	case strings.Contains(msg, "connection refused"):
		return "the registry refused the connection"
	case strings.Contains(msg, "i/o timeout") || strings.Contains(msg, "deadline exceeded"):
		return "the registry did not answer"
	case strings.Contains(msg, "unauthorized") || strings.Contains(msg, "denied"):
		return "the registry denied access"
	case strings.Contains(msg, "manifest unknown") || strings.Contains(msg, "not found"):
		return "the registry has no such image"
	}
	return "the registry did not give it"
}

// probePrivileged starts a privileged container, as k3d's nodes are, from
// an image already present, and removes it at once. Its entrypoint does not
// exist, so the start fails right after the engine applied the privileges
// (or refused them), and nothing of the image runs.
func probePrivileged(ctx context.Context, cli client.APIClient, r *checks.Report, present []string) {
	const check = "privileged containers"
	img, err := probeWith(ctx, cli, present)
	if err != nil || img == "" {
		r.Add(check, true, "not tried: Docker has no image yet to try one with")
		return
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	c, err := cli.ContainerCreate(ctx,
		&container.Config{Image: img, Entrypoint: []string{probeEntrypoint}, Labels: map[string]string{ProbeLabel: "privileged"}},
		&container.HostConfig{Privileged: true, NetworkMode: "none"}, nil, nil, "capstan-preflight-"+hex.EncodeToString(b))
	if err != nil {
		r.Append(checks.Result{Name: check, Message: "cannot create a container to try", Detail: err.Error()})
		return
	}
	defer func() {
		rm, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = cli.ContainerRemove(rm, c.ID, container.RemoveOptions{Force: true})
	}()
	err = cli.ContainerStart(ctx, c.ID, container.StartOptions{})
	switch {
	case err == nil || strings.Contains(err.Error(), probeEntrypoint):
		r.Add(check, true, "Docker starts them (tried with %s)", img)
	case strings.Contains(err.Error(), "unable to apply caps") || strings.Contains(err.Error(), "bounding set") || strings.Contains(err.Error(), "operation not permitted"):
		r.Append(checks.Result{Name: check, Message: "Docker refuses them (" + capsReason(err) + "), and k3d's nodes are privileged", Hint: hintPrivileged, Detail: err.Error()})
	default:
		r.Append(checks.Result{Name: check, Message: "Docker could not start one", Detail: err.Error()})
	}
}

// probeWith picks the image of the privileged probe: one k3d needs, or
// else the smallest image the engine has; "" when it has none.
func probeWith(ctx context.Context, cli client.APIClient, present []string) (string, error) {
	if len(present) > 0 {
		return present[0], nil
	}
	imgs, err := cli.ImageList(ctx, image.ListOptions{})
	if err != nil {
		return "", err
	}
	slices.SortFunc(imgs, func(a, b image.Summary) int { return int(a.Size - b.Size) })
	if len(imgs) == 0 {
		return "", nil
	}
	return imgs[0].ID, nil
}

// capsReason is the runtime's own words for the refusal.
func capsReason(err error) string {
	msg := err.Error()
	for _, s := range []string{"unable to apply caps", "unable to apply bounding set"} {
		if i := strings.Index(msg, s); i >= 0 {
			reason, _, _ := strings.Cut(msg[i:], ": unknown")
			return reason
		}
	}
	return "operation not permitted"
}

// probePorts checks that the host ports the cluster publishes are free on
// this machine (the engine is local): the API port and the config's ports.
func probePorts(r *checks.Report, simple v1alpha5.SimpleConfig) {
	type hostPort struct{ ip, port string }
	var ports []hostPort
	if p := simple.ExposeAPI.HostPort; p != "" && p != "0" {
		ports = append(ports, hostPort{simple.ExposeAPI.HostIP, p})
	}
	for _, pm := range simple.Ports {
		mappings, err := nat.ParsePortSpec(pm.Port)
		if err != nil {
			continue // k3d's own validation reports it
		}
		for _, m := range mappings {
			if m.Binding.HostPort != "" {
				ports = append(ports, hostPort{m.Binding.HostIP, m.Binding.HostPort})
			}
		}
	}
	var taken []string
	for _, hp := range ports {
		l, err := net.Listen("tcp", net.JoinHostPort(hp.ip, hp.port))
		if err != nil {
			taken = append(taken, hp.port)
			continue
		}
		_ = l.Close()
	}
	switch {
	case len(taken) > 0:
		r.Append(checks.Result{Name: "ports", Message: "port " + strings.Join(taken, ", ") + " is taken on this machine", Hint: hintPort(strings.Join(taken, ", "))})
	case len(ports) > 0:
		r.Add("ports", true, "%d host ports are free", len(ports))
	default:
		r.Add("ports", true, "the API gets a free port")
	}
}
