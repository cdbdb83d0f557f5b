package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func adminConfig(p *pki) *rest.Config {
	return &rest.Config{Host: "https://127.0.0.1:" + apiPort, TLSClientConfig: rest.TLSClientConfig{CAData: p.caPEM, CertData: p.certPEM, KeyData: p.keyPEM}}
}

// registerNode creates the Node object that kwok then keeps Ready, retrying
// until the API server accepts it.
func registerNode(ctx context.Context, cfg *rest.Config, name string, server bool) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	labels := map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "k3s"}
	if server {
		labels["node-role.kubernetes.io/control-plane"] = "true"
		labels["node-role.kubernetes.io/master"] = "true"
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("110"),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"}},
		Status:     corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		_, err = cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("registering node %s: %w", name, err)
		}
		time.Sleep(time.Second)
	}
}

// runAgent registers this container as a Node of the server at url, with
// the cluster token as a bearer token, and waits for a signal.
func runAgent(url, token string) error {
	if url == "" || token == "" {
		return errors.New("agent needs K3S_URL and K3S_TOKEN")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hostname, _ := os.Hostname()
	cfg := &rest.Config{Host: url, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	if err := registerNode(ctx, cfg, hostname, false); err != nil {
		return err
	}
	logf("Successfully registered node %s", hostname)
	<-ctx.Done()
	return nil
}
