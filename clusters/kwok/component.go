package kwok

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"
)

// stopComponent kills one component of cluster name the way kwokctl stops
// it, by the pid kwokctl recorded when it started the process (kwokctl has
// no command to stop a single component), and removes the pid file so that
// `kwokctl start cluster` starts it again.
//
// Until then the component's ports stay bound by this process: kwokctl
// gives a new cluster any port it finds free, so a cluster created by a
// parallel test would otherwise take them, and the component could not
// start again. The held ports accept connections and close them at once, as
// a host whose server is down resets them.
func (r *Runner) stopComponent(ctx context.Context, name, component string) error {
	ports, err := r.componentPorts(name, component)
	if err != nil {
		return err
	}
	pidFile := filepath.Join(r.workDir, "clusters", name, "pids", component+".pid")
	raw, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil // not running
	}
	if err != nil {
		return fmt.Errorf("reading the pid of %s of kwok cluster %s: %w", component, name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return fmt.Errorf("reading the pid of %s of kwok cluster %s: %w", component, name, err)
	}
	if p, err := os.FindProcess(pid); err == nil {
		if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("stopping %s of kwok cluster %s: %w", component, name, err)
		}
	}
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stopping %s of kwok cluster %s: %w", component, name, err)
	}
	return r.held.hold(ctx, name, ports)
}

// portFlag matches the flags of a component that name a port it listens
// on: --secure-port=N, --server-address=HOST:N, --listen-client-urls=URL.
var portFlag = regexp.MustCompile(`^--[a-z-]*(port|address|listen-[a-z-]*urls)=(?:.*:)?([0-9]+)$`)

// componentPorts reads the ports component listens on from the cluster's
// kwok.yaml, where kwokctl keeps the command line of every component.
func (r *Runner) componentPorts(name, component string) ([]int, error) {
	raw, err := os.ReadFile(filepath.Join(r.workDir, "clusters", name, "kwok.yaml"))
	if err != nil {
		return nil, fmt.Errorf("reading the configuration of kwok cluster %s: %w", name, err)
	}
	for _, doc := range strings.Split(string(raw), "\n---") {
		var conf struct {
			Kind       string `json:"kind"`
			Components []struct {
				Name string   `json:"name"`
				Args []string `json:"args"`
			} `json:"components"`
		}
		if err := yaml.Unmarshal([]byte(doc), &conf); err != nil || conf.Kind != "KwokctlConfiguration" {
			continue
		}
		for _, c := range conf.Components {
			if c.Name == component {
				return flagPorts(c.Args), nil
			}
		}
	}
	return nil, fmt.Errorf("kwok cluster %s has no component %s", name, component)
}

func flagPorts(args []string) []int {
	var ports []int
	seen := map[int]bool{}
	for _, a := range args {
		m := portFlag.FindStringSubmatch(a)
		if m == nil {
			continue
		}
		if p, err := strconv.Atoi(m[2]); err == nil && p > 0 && p < 65536 && !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports
}

// heldPorts are listeners kept on the ports of stopped components, by cluster.
type heldPorts struct {
	mu  sync.Mutex
	lns map[string][]net.Listener
}

// hold binds ports on every address for cluster name, waiting a few
// seconds for a killed process to let go of them.
func (h *heldPorts) hold(ctx context.Context, name string, ports []int) error {
	for _, port := range ports {
		var ln net.Listener
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			var err error
			ln, err = net.Listen("tcp", ":"+strconv.Itoa(port))
			return err == nil, nil
		})
		if err != nil {
			return fmt.Errorf("holding port %d of stopped kwok cluster %s: %w", port, name, err)
		}
		go resetAll(ln)
		h.mu.Lock()
		if h.lns == nil {
			h.lns = map[string][]net.Listener{}
		}
		h.lns[name] = append(h.lns[name], ln)
		h.mu.Unlock()
	}
	return nil
}

// has reports whether ports are held for cluster name.
func (h *heldPorts) has(name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.lns[name]) > 0
}

// release closes the listeners held for cluster name.
func (h *heldPorts) release(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ln := range h.lns[name] {
		_ = ln.Close()
	}
	delete(h.lns, name)
}

// resetAll closes every connection ln accepts, until ln is closed.
func resetAll(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_ = c.Close()
	}
}
