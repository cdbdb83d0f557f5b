package main

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// endpointAnnotation names, on a Service, the host:port its endpoints are
// at. It is k3dstandin.EndpointAnnotation, repeated here so that the node
// binary does not link the Docker client.
const endpointAnnotation = "k3dstandin.capstan.io/endpoint"

// nodePortResync is how often the Services are listed again.
const nodePortResync = 500 * time.Millisecond

// nodePorts stands in for kube-proxy's NodePort rules on this node: it
// listens on every TCP node port of every Service, as a k3s node does, and
// relays each connection to the address in the Service's
// endpointAnnotation. That address stands in for the Service's endpoints:
// the stand-in's pods are kwok's and run nowhere, so a test runs the
// workload elsewhere (on the host) and says where. A connection to a
// Service without the annotation is closed, as kube-proxy rejects one to a
// Service without endpoints.
type nodePorts struct {
	cs kubernetes.Interface
	mu sync.Mutex
	// open holds the listeners by node port.
	open map[int32]*nodePort
}

// nodePort is one listening node port and where it relays to now.
type nodePort struct {
	ln      net.Listener
	service string
	target  string
}

// serveNodePorts keeps the node ports in step with the Services until ctx
// ends, then closes them.
func serveNodePorts(ctx context.Context, cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	n := &nodePorts{cs: cs, open: map[int32]*nodePort{}}
	defer n.closeAll()
	for {
		n.resync(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(nodePortResync):
		}
	}
}

// resync opens the node ports of the Services listed now, updates their
// targets and closes the ports no Service declares any more. A failed list
// keeps what is open.
func (n *nodePorts) resync(ctx context.Context) {
	list, err := n.cs.CoreV1().Services(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	want := map[int32]nodePort{}
	for _, svc := range list.Items {
		for _, p := range svc.Spec.Ports {
			if p.NodePort != 0 && (p.Protocol == "" || p.Protocol == corev1.ProtocolTCP) {
				want[p.NodePort] = nodePort{service: svc.Namespace + "/" + svc.Name, target: svc.Annotations[endpointAnnotation]}
			}
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for port, np := range n.open {
		if _, ok := want[port]; !ok {
			_ = np.ln.Close()
			delete(n.open, port)
			logf("Closed node port %d of %s", port, np.service)
		}
	}
	for port, w := range want {
		if np, ok := n.open[port]; ok {
			np.service, np.target = w.service, w.target
			continue
		}
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(int(port)))
		if err != nil {
			logf("Cannot listen on node port %d of %s: %v", port, w.service, err)
			continue
		}
		n.open[port] = &nodePort{ln: ln, service: w.service, target: w.target}
		logf("Listening on node port %d of %s", port, w.service)
		go n.accept(ln, port)
	}
}

// target is where port relays to now; "" when its Service has no endpoint.
func (n *nodePorts) target(port int32) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if np, ok := n.open[port]; ok {
		return np.target
	}
	return ""
}

func (n *nodePorts) accept(ln net.Listener, port int32) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go relay(c, n.target(port))
	}
}

func (n *nodePorts) closeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for port, np := range n.open {
		_ = np.ln.Close()
		delete(n.open, port)
	}
}

// relay copies c to and from target until either side ends, keeping the
// half-close of the side that ends first.
func relay(c net.Conn, target string) {
	defer c.Close()
	if target == "" {
		return
	}
	up, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	copyHalf := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go copyHalf(up, c)
	go copyHalf(c, up)
	<-done
	<-done
}
