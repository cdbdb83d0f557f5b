package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/clusters/kwok"
)

func TestDrillWithoutBinariesSaysHowToBuildThem(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	res := capstan(t, []string{"CAPSTAN_KUBE_BIN=" + empty, "CAPSTAN_CACHE=" + t.TempDir()}, "drill", "--url", "https://git.example.com/fleet")
	if res.code != 1 {
		t.Errorf("exit %d, want 1", res.code)
	}
	want := "error: control plane binaries not found in " + empty
	if !strings.HasPrefix(res.stderr, want) || !strings.Contains(res.stderr, "hint: in a checkout of Capstan run `make kube-bins`") ||
		!strings.Contains(res.stderr, "or set CAPSTAN_KUBE_BIN") {
		t.Errorf("stderr = %q, want %q and how to get the binaries", res.stderr, want)
	}
}

func TestDrillInterruptedDeletesTheCluster(t *testing.T) {
	t.Parallel()
	repo := newDrillRepo(t, true, map[string]*string{"clusters/dwk/web/worker.yaml": drillFile(unschedulableWorker)})
	cache := t.TempDir()
	cmd := exec.CommandContext(t.Context(), binary, "drill", "--url", repo.srv.HTTPURL("dwk"), "--username", repo.srv.Username(), "--path", "clusters/dwk", "--timeout", "10m")
	cmd.Env = append(os.Environ(), "CAPSTAN_GIT_PASSWORD="+repo.srv.Password(), "NO_COLOR=1", "CAPSTAN_CACHE="+cache, "CAPSTAN_KUBE_BIN="+kwok.BinDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	running := make(chan struct{})
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.Contains(sc.Text(), "✓ Controller") {
				close(running)
			}
		}
	}()
	select {
	case <-running:
	case <-time.After(10 * time.Minute):
		t.Fatal("the controller did not start")
	}
	time.Sleep(2 * time.Second) // let the Converge step wait
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-scanned
	err = cmd.Wait()
	out := strings.Join(lines, "\n")
	t.Logf("stderr after Ctrl-C:\n%s", out)
	if err == nil {
		t.Error("an interrupted drill exited 0")
	}
	if !strings.Contains(out, "✓ Cleanup: deleted kwok-drill-") || !strings.Contains(out, "error: Converge: context canceled") {
		t.Errorf("stderr does not show the cleanup after the interrupt")
	}
	assertNoClusterLeft(t, cache, out)
}

func TestDrillOverSSHWithADeployKey(t *testing.T) {
	t.Parallel()
	repo := newDrillRepo(t, false, nil)
	key := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(key, repo.srv.ClientPrivateKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	env := []string{"NO_COLOR=1", "CAPSTAN_CACHE=" + cache, "CAPSTAN_KUBE_BIN=" + kwok.BinDir()}
	args := []string{"drill", "--url", repo.srv.SSHURL("dwk"), "--path", "clusters/dwk", "--private-key-file", key}

	// Without known_hosts the drill shows the host key and asks for consent.
	res := capstan(t, env, args...)
	if res.code != 1 || !strings.Contains(res.stderr, "pass --accept-host-key (or --ssh-known-hosts FILE)") {
		t.Errorf("without known_hosts: exit %d\n%s", res.code, res.stderr)
	}
	assertNoClusterLeft(t, cache, res.stderr)

	res = capstan(t, env, append(args, "--accept-host-key")...)
	t.Logf("stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	mustSucceed(t, "drill over ssh", res)
	if !strings.Contains(res.stdout, "capstan-system/capstan-system  Ready") || strings.Contains(res.stdout+res.stderr, "PRIVATE KEY") {
		t.Errorf("the root Sync is not Ready over ssh, or the key leaked:\n%s", res.stdout)
	}
	assertNoClusterLeft(t, cache, res.stderr)
}
