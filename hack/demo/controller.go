package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// sidecar runs `capstan controller` as a process beside a kwok cluster:
// kwok only simulates pods, so the controller Deployment that bootstrap
// installs never runs a container. The process uses a token of the
// capstan-controller ServiceAccount, so it holds exactly the rights the
// Deployment's pod would.
type sidecar struct {
	cancel  context.CancelFunc
	done    chan struct{}
	started chan int // the controller's pid, once it runs
	logPath string
	err     error // set before done is closed
}

// sidecarConfig says where the cluster is and where the process keeps its
// files.
type sidecarConfig struct {
	capstan    string // the capstan binary
	kubeconfig string // admin kubeconfig of the cluster, written by bootstrap
	context    string // its context
	dir        string // for the controller's kubeconfig, checkouts and log
}

// startSidecar waits in the background until bootstrap has created the
// controller's ServiceAccount, then runs the controller until stop.
func startSidecar(ctx context.Context, cfg sidecarConfig) *sidecar {
	ctx, cancel := context.WithCancel(ctx)
	s := &sidecar{cancel: cancel, done: make(chan struct{}), started: make(chan int, 1), logPath: filepath.Join(cfg.dir, "controller.log")}
	go func() {
		defer close(s.done)
		s.err = s.run(ctx, cfg)
	}()
	return s
}

func (s *sidecar) run(ctx context.Context, cfg sidecarConfig) error {
	admin, err := waitForServiceAccount(ctx, cfg.kubeconfig, cfg.context)
	if err != nil {
		return err
	}
	token, err := testenv.ServiceAccountConfig(ctx, admin, manifests.Namespace, manifests.ControllerName)
	if err != nil {
		return err
	}
	kc := filepath.Join(cfg.dir, "controller.kubeconfig")
	if err := testenv.WriteKubeconfig(token, kc); err != nil {
		return err
	}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return fmt.Errorf("creating controller log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, cfg.capstan, "controller", "--kubeconfig", kc,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0", "--leader-elect=false",
		"--log-format", "text", "--work-dir", filepath.Join(cfg.dir, "checkouts"), "--graceful-shutdown-timeout", "5s")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Stopping is a SIGTERM, as the kubelet sends; a kill if it lingers.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting capstan controller: %w", err)
	}
	s.started <- cmd.Process.Pid
	err = cmd.Wait()
	if ctx.Err() != nil {
		return nil // stopped on purpose
	}
	return fmt.Errorf("capstan controller exited: %w", err)
}

// waitForServiceAccount polls until the kubeconfig exists and the
// controller's ServiceAccount is in the cluster. Each attempt is short: an
// API server that is still starting may accept a request and not answer it.
func waitForServiceAccount(ctx context.Context, path, kctx string) (*rest.Config, error) {
	var cfg *rest.Config
	key := client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.ControllerName}
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if _, err := os.Stat(path); err != nil {
			return false, nil // bootstrap has not created the cluster yet
		}
		c, err := loadKubeconfig(path, kctx)
		if err != nil {
			return false, nil
		}
		attempt := rest.CopyConfig(c)
		attempt.Timeout = 2 * time.Second
		cl, err := client.New(attempt, client.Options{})
		if err != nil {
			return false, nil
		}
		if cl.Get(ctx, key, &corev1.ServiceAccount{}) != nil {
			return false, nil
		}
		cfg = c
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for the ServiceAccount %s: %w", key, err)
	}
	return cfg, nil
}

// loadKubeconfig reads the context kctx of the kubeconfig at path with the
// certificates inline. client-go caches connections by the path of a CA
// file, not by its content, and the rebuilt cluster's CA has the same path
// as the deleted one's: with the path, this process would keep trusting the
// first cluster's CA until client-go reloads the file.
func loadKubeconfig(path, kctx string) (*rest.Config, error) {
	raw, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig %s: %w", path, err)
	}
	if err := clientcmdapi.FlattenConfig(raw); err != nil {
		return nil, fmt.Errorf("reading the certificates of kubeconfig %s: %w", path, err)
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{CurrentContext: kctx}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading context %s of %s: %w", kctx, path, err)
	}
	return cfg, nil
}

// stop ends the controller and waits for it. It returns why the
// controller failed, if it did before it was stopped.
func (s *sidecar) stop() error {
	s.cancel()
	<-s.done
	if errors.Is(s.err, context.Canceled) {
		return nil
	}
	return s.err
}

// logTail returns the last lines of the controller's log.
func (s *sidecar) logTail(n int) string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
