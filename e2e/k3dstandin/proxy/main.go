// Command k3d-proxy is the stand-in for k3d's load balancer image (NGINX)
// in the e2e tests (see package k3dstandin). It reads the configuration k3d
// writes to /etc/confd/values.yaml, forwards every "PORT.tcp" port to the
// first of its server nodes that accepts a connection, and then prints
// NGINX's "start worker processes", the line k3d waits for.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"
)

const configPath = "/etc/confd/values.yaml"

type config struct {
	Ports map[string][]string `json:"ports"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	cfg, err := readConfig(ctx)
	if err != nil {
		return err
	}
	for key, targets := range cfg.Ports {
		port, proto, _ := strings.Cut(key, ".")
		if proto != "tcp" {
			fmt.Printf("skipping %s: only tcp is forwarded\n", key)
			continue
		}
		ln, err := net.Listen("tcp", ":"+port)
		if err != nil {
			return fmt.Errorf("listening on %s: %w", port, err)
		}
		defer ln.Close()
		go serve(ln, port, targets)
		fmt.Printf("forwarding %s to %v\n", port, targets)
	}
	fmt.Println("start worker processes")
	<-ctx.Done()
	return nil
}

func readConfig(ctx context.Context) (config, error) {
	var cfg config
	for {
		b, err := os.ReadFile(configPath)
		if err == nil {
			return cfg, yaml.Unmarshal(b, &cfg)
		}
		if !errors.Is(err, os.ErrNotExist) {
			return cfg, err
		}
		select {
		case <-ctx.Done():
			return cfg, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func serve(ln net.Listener, port string, targets []string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go forward(c, port, targets)
	}
}

func forward(c net.Conn, port string, targets []string) {
	defer c.Close()
	for _, t := range targets {
		up, err := net.DialTimeout("tcp", net.JoinHostPort(t, port), 5*time.Second)
		if err != nil {
			continue
		}
		defer up.Close()
		done := make(chan struct{}, 2)
		go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
		go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
		<-done
		return
	}
}
