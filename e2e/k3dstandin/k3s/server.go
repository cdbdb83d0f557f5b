package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const (
	dataDir      = "/var/lib/rancher/k3s/server"
	binDir       = "/bin/aux"
	logDir       = "/var/log/standin"
	apiPort      = "6443"
	serviceCIDR  = "10.43.0.0/16"
	serviceIP    = "10.43.0.1"
	corednsPath  = dataDir + "/manifests/coredns.yaml"
	readyTimeout = 3 * time.Minute
)

// kwokStages are kwok's fast node and pod lifecycles; kwok refuses to
// run without stages.
//
//go:embed stages.yaml
var kwokStages []byte

// serverFlags are the k3s server flags the stand-in acts on; the others are ignored.
type serverFlags struct {
	tlsSANs        []string
	disableCoreDNS bool
}

func parseServerFlags(args []string) serverFlags {
	var f serverFlags
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		if !hasValue && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			value = args[i+1]
		}
		switch name {
		case "--tls-san":
			f.tlsSANs = append(f.tlsSANs, value)
		case "--disable":
			f.disableCoreDNS = f.disableCoreDNS || strings.Contains(value, "coredns")
		}
	}
	return f
}

func logf(format string, args ...any) {
	fmt.Printf("time=%q level=info msg=%q\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

// runServer starts the control plane and kwok, registers this container
// as a Node, serves the Services' node ports (see nodePorts), writes the
// kubeconfig and coredns.yaml, prints k3d's ready lines, and runs until a
// component exits or a signal arrives.
func runServer(f serverFlags) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hostname, _ := os.Hostname()
	dns, ips := localNames(hostname)
	for _, san := range f.tlsSANs {
		if ip := net.ParseIP(san); ip != nil {
			ips = append(ips, ip)
		} else if san != "" {
			dns = append(dns, san)
		}
	}
	p, err := newPKI(filepath.Join(dataDir, "tls"), dns, ips)
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	token := os.Getenv("K3S_TOKEN")
	tokenFile := p.path("tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(token+",k3s-node,k3s-node,system:masters\n"), 0o600); err != nil {
		return err
	}
	adminKC := filepath.Join(dataDir, "cred", "admin.kubeconfig")
	if err := writeKubeconfig(adminKC, "default", p); err != nil {
		return err
	}
	kwokConfig := filepath.Join(dataDir, "kwok.yaml")
	if err := os.WriteFile(kwokConfig, kwokStages, 0o644); err != nil {
		return err
	}
	sup := newSupervisor()
	defer sup.stopAll()
	logf("Starting etcd")
	if err := sup.start("etcd", "--name=default", "--data-dir="+filepath.Join(dataDir, "db", "etcd"),
		"--listen-client-urls=http://127.0.0.1:2379", "--advertise-client-urls=http://127.0.0.1:2379",
		"--listen-peer-urls=http://127.0.0.1:2380", "--initial-advertise-peer-urls=http://127.0.0.1:2380",
		"--initial-cluster=default=http://127.0.0.1:2380"); err != nil {
		return err
	}
	logf("Running kube-apiserver")
	if err := sup.start("kube-apiserver", "--etcd-servers=http://127.0.0.1:2379", "--allow-privileged=true",
		"--authorization-mode=Node,RBAC", "--bind-address=0.0.0.0", "--secure-port="+apiPort,
		"--tls-cert-file="+p.path("admin.crt"), "--tls-private-key-file="+p.path("admin.key"),
		"--client-ca-file="+p.path("ca.crt"), "--token-auth-file="+tokenFile,
		"--service-account-key-file="+p.path("sa.key"), "--service-account-signing-key-file="+p.path("sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range="+serviceCIDR); err != nil {
		return err
	}
	if err := waitReady(ctx, sup, p); err != nil {
		return err
	}
	for _, c := range [][]string{
		{"kube-controller-manager", "--kubeconfig=" + adminKC, "--bind-address=127.0.0.1", "--secure-port=10257",
			"--root-ca-file=" + p.path("ca.crt"), "--service-account-private-key-file=" + p.path("sa.key"),
			"--service-cluster-ip-range=" + serviceCIDR, "--use-service-account-credentials=false"},
		{"kube-scheduler", "--kubeconfig=" + adminKC, "--bind-address=127.0.0.1", "--secure-port=10259"},
		{"kwok", "--kubeconfig=" + adminKC, "--config=" + kwokConfig, "--manage-all-nodes=true", "--node-name=" + hostname,
			"--node-port=10247", "--server-address=127.0.0.1:10247"},
	} {
		if err := sup.start(c[0], c[1:]...); err != nil {
			return err
		}
	}
	if err := registerNode(ctx, adminConfig(p), hostname, true); err != nil {
		return err
	}
	go func() { _ = serveNodePorts(ctx, adminConfig(p)) }()
	out := os.Getenv("K3S_KUBECONFIG_OUTPUT")
	if out == "" {
		out = "/etc/rancher/k3s/k3s.yaml"
	}
	if err := writeKubeconfig(out, "default", p); err != nil {
		return err
	}
	logf("Wrote kubeconfig %s", out)
	logf("k3s is up and running")
	if !f.disableCoreDNS {
		if err := writeCoreDNS(); err != nil {
			return err
		}
		logf("Cluster dns configmap has been set successfully")
	}
	return sup.wait(ctx)
}

// waitReady polls the API server's /readyz until it answers 200.
func waitReady(ctx context.Context, sup *supervisor, p *pki) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.caPEM)
	cert, err := tls.X509KeyPair(p.certPEM, p.keyPEM)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		if err := sup.failed(); err != nil {
			return err
		}
		resp, err := hc.Get("https://127.0.0.1:" + apiPort + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return errors.New("kube-apiserver not ready within " + readyTimeout.String())
}

// writeKubeconfig writes, atomically, a kubeconfig whose cluster, user and
// context are all called name (k3d renames "default").
func writeKubeconfig(path, name string, p *pki) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters[name] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:" + apiPort, CertificateAuthorityData: p.caPEM}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: p.certPEM, ClientKeyData: p.keyPEM}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	kc.CurrentContext = name
	b, err := clientcmd.Write(*kc)
	if err != nil {
		return err
	}
	return writeAtomic(path, b, 0o600)
}

func writeAtomic(path string, b []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeCoreDNS writes the manifest k3d patches with its host records.
func writeCoreDNS() error {
	const manifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: coredns
  namespace: kube-system
data:
  Corefile: |
    .:53 {
        hosts /etc/coredns/NodeHosts {
          fallthrough
        }
        forward . /etc/resolv.conf
    }
  NodeHosts: ""
`
	return writeAtomic(corednsPath, []byte(manifest), 0o644)
}

// supervisor runs the control-plane components, each logging to its own file.
type supervisor struct {
	procs []*exec.Cmd
	exits chan error
}

func newSupervisor() *supervisor { return &supervisor{exits: make(chan error, 8)} }

func (s *supervisor) start(name string, args ...string) error {
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	log, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	s.procs = append(s.procs, cmd)
	go func() {
		err := cmd.Wait()
		s.exits <- fmt.Errorf("%s exited: %v (see %s)", name, err, log.Name())
	}()
	return nil
}

func (s *supervisor) failed() error {
	select {
	case err := <-s.exits:
		return err
	default:
		return nil
	}
}

// wait returns when a component exits (an error) or ctx ends (nil).
func (s *supervisor) wait(ctx context.Context) error {
	select {
	case err := <-s.exits:
		return err
	case <-ctx.Done():
		logf("Shutting down")
		return nil
	}
}

func (s *supervisor) stopAll() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		_ = s.procs[i].Process.Signal(syscall.SIGTERM)
	}
	time.Sleep(time.Second)
	for _, p := range s.procs {
		_ = p.Process.Kill()
	}
}
