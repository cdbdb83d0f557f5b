// Command k3s is the stand-in for the k3s binary in the e2e tests' stand-in
// node image (see package k3dstandin); it is never shipped as k3s. It
// accepts the command lines k3d gives k3s:
//
//	k3s server [--tls-san NAME]… [--disable coredns] [other flags, ignored]
//	k3s agent                     (K3S_URL, K3S_TOKEN in the environment)
//	ctr image import [--all-platforms] -|FILE   (also as `k3s ctr …`)
//
// The server runs a real control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler) with kwok simulating the nodes,
// and prints the log lines k3d waits for. The server node also listens on
// the Services' node ports and relays them to the address a Service's
// k3dstandin.capstan.io/endpoint annotation names, standing in for
// kube-proxy and the pod. ctr records what it imports instead of unpacking
// it, so that tests can check it.
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	args := os.Args[1:]
	cmd := filepath.Base(os.Args[0])
	if cmd != "ctr" {
		if len(args) == 0 {
			fmt.Fprintln(os.Stderr, "usage: k3s server|agent|ctr …")
			os.Exit(2)
		}
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "server":
		err = runServer(parseServerFlags(args))
	case "agent":
		err = runAgent(os.Getenv("K3S_URL"), os.Getenv("K3S_TOKEN"))
	case "ctr":
		err = runCtr(args, os.Stdin, os.Stdout)
	default:
		err = fmt.Errorf("unsupported command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
