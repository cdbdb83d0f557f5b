package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/components/repo"
	"github.com/capstan-gitops/capstan/e2e/k3dstandin"
)

// k3dWebhookNodePort is the node port `bootstrap --webhook --k3d` gives the
// receiver's Service and maps the host port to.
const k3dWebhookNodePort = 32292

// freePort returns a loopback port no one listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	_, port, err := net.SplitHostPort(freeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// hostReceiver picks the address the host-run controller serves its
// webhook receiver on, in place of the pod's :9292: a free port on the
// gateway of the cluster's Docker network, which the node containers reach
// and nothing beyond the host does. It names that address as the stand-in
// endpoint of the receiver's Service, so that the stand-in server node
// relays the node port there as kube-proxy would to the pod.
func (e *k3dEnv) hostReceiver(ctx context.Context, name string, admin client.Client) (string, error) {
	nw, err := e.docker.NetworkInspect(ctx, "k3d-"+name, network.InspectOptions{})
	if err != nil {
		return "", fmt.Errorf("inspecting the cluster network: %w", err)
	}
	var gateway string
	for _, c := range nw.IPAM.Config {
		if ip := net.ParseIP(c.Gateway); ip != nil && ip.To4() != nil {
			gateway = c.Gateway
		}
	}
	if gateway == "" {
		return "", fmt.Errorf("network k3d-%s has no IPv4 gateway: %+v", name, nw.IPAM.Config)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(gateway, "0"))
	if err != nil {
		return "", fmt.Errorf("listening on the gateway: %w", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	key := client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.WebhookServiceName}
	err = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		svc := &corev1.Service{}
		if admin.Get(ctx, key, svc) != nil {
			return false, nil
		}
		patch := client.MergeFrom(svc.DeepCopy())
		if svc.Annotations == nil {
			svc.Annotations = map[string]string{}
		}
		svc.Annotations[k3dstandin.EndpointAnnotation] = addr
		return admin.Patch(ctx, svc, patch) == nil, nil
	})
	if err != nil {
		return "", fmt.Errorf("annotating service %s: %w", key, err)
	}
	return addr, nil
}

// k3dHook is the receiver a `bootstrap --webhook --k3d` run published.
type k3dHook struct {
	// url is the host port's URL of the root Sync's status.webhookPath.
	url string
	// token is the token the run printed; "" when it printed none.
	token string
}

// checkWebhookPublished asserts that the load balancer container publishes
// the receiver's node port on 127.0.0.1:hostPort and nowhere else, that the
// receiver's Service is a NodePort Service on that node port, and that the
// run printed the local URL of the root Sync's webhook path.
func (e *k3dEnv) checkWebhookPublished(t *testing.T, name, kc, stdout string, hostPort int) k3dHook {
	t.Helper()
	lb, err := e.docker.ContainerInspect(t.Context(), "k3d-"+name+"-serverlb")
	if err != nil {
		t.Fatalf("inspecting the load balancer: %v", err)
	}
	want := fmt.Sprintf("127.0.0.1:%d", hostPort)
	var published []string
	for port, bindings := range lb.NetworkSettings.Ports {
		for _, b := range bindings {
			if b.HostPort == strconv.Itoa(hostPort) || string(port) == fmt.Sprintf("%d/tcp", k3dWebhookNodePort) {
				published = append(published, net.JoinHostPort(b.HostIP, b.HostPort)+"->"+string(port))
			}
		}
	}
	t.Logf("load balancer %s publishes %v", lb.Name, published)
	if len(published) != 1 || published[0] != fmt.Sprintf("%s->%d/tcp", want, k3dWebhookNodePort) {
		t.Errorf("load balancer publishes %v, want only %s->%d/tcp", published, want, k3dWebhookNodePort)
	}

	admin, err := k3dAdminClient(kc, "k3d-"+name)
	if err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{}
	if err := admin.Get(t.Context(), client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.WebhookServiceName}, svc); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.Type != corev1.ServiceTypeNodePort || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].NodePort != k3dWebhookNodePort {
		t.Errorf("service %s: type %s, ports %+v; want NodePort %d", svc.Name, svc.Spec.Type, svc.Spec.Ports, k3dWebhookNodePort)
	}
	root := (&target{admin: admin}).rootSync(t)
	path := root.Status.WebhookPath
	if path == "" || root.Spec.Webhook == nil {
		t.Fatalf("root Sync has no webhook: spec %+v, status.webhookPath %q", root.Spec.Webhook, path)
	}
	hook := k3dHook{url: "http://" + want + path, token: printedField(stdout, "secret")}
	if strings.Contains(stdout, "k3d cluster existed") {
		t.Error("bootstrap says the cluster existed; it created it")
	}
	if got := printedField(stdout, "local URL"); got != fmt.Sprintf("%s (point your tunnel at http://%s)", hook.url, want) {
		t.Errorf("printed local URL %q, want %s", got, hook.url)
	}
	return hook
}

// pushThroughHostPort commits a change to the fleet and sends a signed
// GitHub push delivery of it to the receiver through the host port, and
// waits for the root Sync to apply it at the receiver's request. It
// returns the new head.
func pushThroughHostPort(t *testing.T, f *fleet, admin client.Client, hook k3dHook, before string) string {
	t.Helper()
	if len(hook.token) != 64 {
		t.Fatalf("the bootstrap printed token %q, want 64 hex characters", hook.token)
	}
	tg := &target{admin: admin}
	requested := tg.rootSync(t).Annotations[capstanv1.ReconcileRequestAnnotation]
	sha := f.srv.Commit(t, f.repo, "main", map[string]string{
		"clusters/e2e/apps/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: web\ndata:\n  greeting: pushed\n",
	}, "push through the k3d host port")
	h := hookSender{t: t, url: hook.url, token: []byte(hook.token)}
	start := time.Now()
	if code := h.postGitHub("push", githubPush("refs/heads/main", before, sha, f.srv.HTTPURL(f.repo)), []byte(hook.token)); code != http.StatusAccepted {
		t.Fatalf("signed push to %s: status %d, want 202", hook.url, code)
	}
	t.Logf("signed push through the host port answered 202 in %s", time.Since(start).Round(time.Millisecond))
	s := waitSyncReady(t, admin, manifests.Namespace, repo.RootSyncName, "main@sha1:"+sha, 2*time.Minute)
	t.Logf("signed push to applied: %s", time.Since(start).Round(time.Millisecond))
	if s.Annotations[capstanv1.ReconcileRequestAnnotation] == requested {
		t.Error("the push was applied without a sync request from the receiver")
	}
	if cm := tg.configMap(t, "web", "web-config"); cm == nil || cm.Data["greeting"] != "pushed" {
		t.Errorf("the pushed app was not applied: %+v", cm)
	}
	return sha
}

// deliverAgain sends a signed push of the commit already applied through
// the host port and waits for the receiver's sync request to reach the root
// Sync: the recreated cluster's mapping carries deliveries without a new
// commit.
func deliverAgain(t *testing.T, f *fleet, admin client.Client, hook k3dHook, before, head string) {
	t.Helper()
	tg := &target{admin: admin}
	requested := tg.rootSync(t).Annotations[capstanv1.ReconcileRequestAnnotation]
	h := hookSender{t: t, url: hook.url, token: []byte(hook.token)}
	start := time.Now()
	if code := h.postGitHub("push", githubPush("refs/heads/main", before, head, f.srv.HTTPURL(f.repo)), []byte(hook.token)); code != http.StatusAccepted {
		t.Fatalf("signed push to %s: status %d, want 202", hook.url, code)
	}
	s := &capstanv1.Sync{}
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		err := admin.Get(ctx, client.ObjectKey{Namespace: manifests.Namespace, Name: repo.RootSyncName}, s)
		return err == nil && s.Annotations[capstanv1.ReconcileRequestAnnotation] != requested, nil
	})
	if err != nil {
		t.Fatalf("no sync request reached the root Sync: %v", err)
	}
	t.Logf("signed push through the recreated mapping answered 202 and requested a sync in %s", time.Since(start).Round(time.Millisecond))
}
