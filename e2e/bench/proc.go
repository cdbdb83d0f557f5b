//go:build bench

package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// controllerProc is `capstan controller` running as its own process with
// the capstan-controller ServiceAccount's token, as in a pod.
type controllerProc struct {
	cmd         *exec.Cmd
	done        chan struct{}
	metricsAddr string
	pprofAddr   string
	cgroup      *memCgroup

	mu                              sync.Mutex
	anonPeakKiB, filePeakKiB, wsKiB float64
}

// startController starts the controller of the cluster admin reaches, with
// its logs in dir/controller.log, as in its pod (see podUID). It serves
// metrics on a free loopback port, and pprof too when profile is set.
func startController(ctx context.Context, binary string, admin *rest.Config, dir string, profile bool) (*controllerProc, error) {
	cfg, err := testenv.ServiceAccountConfig(ctx, admin, manifests.Namespace, manifests.ControllerName)
	if err != nil {
		return nil, fmt.Errorf("controller token: %w", err)
	}
	if cfg.CAFile != "" && len(cfg.CAData) == 0 {
		// The pod's UID may not read the cluster's directory.
		if cfg.CAData, err = os.ReadFile(cfg.CAFile); err != nil {
			return nil, fmt.Errorf("reading the cluster CA: %w", err)
		}
		cfg.CAFile = ""
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("opening %s to the controller: %w", dir, err)
	}
	kc := filepath.Join(dir, "controller.kubeconfig")
	if err := testenv.WriteKubeconfig(cfg, kc); err != nil {
		return nil, err
	}
	if binary, err = podBinary(binary, filepath.Join(dir, "image")); err != nil {
		return nil, err
	}
	logs, err := os.Create(filepath.Join(dir, "controller.log"))
	if err != nil {
		return nil, fmt.Errorf("creating controller log: %w", err)
	}
	p := &controllerProc{done: make(chan struct{})}
	if p.metricsAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", work, err)
	}
	if err := giveToPod(kc, work); err != nil {
		return nil, err
	}
	if p.cgroup, err = newMemCgroup(fmt.Sprintf("capstan-bench-%d-%d", os.Getpid(), time.Now().UnixNano())); err != nil {
		return nil, err
	}
	args := []string{"controller", "--kubeconfig", kc, "--metrics-bind-address", p.metricsAddr,
		"--health-probe-bind-address", "0", "--leader-elect=false", "--log-format", "text", "--work-dir", work}
	if profile {
		if p.pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
		args = append(args, "--pprof-bind-address", p.pprofAddr)
	}
	// Experiments: extra flags such as --log-level=debug or --kube-api-qps=50.
	args = append(args, strings.Fields(os.Getenv("BENCH_CONTROLLER_ARGS"))...)
	argv := p.cgroup.wrap(append([]string{binary}, args...))
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.SysProcAttr = podCredential()
	if env := os.Getenv("BENCH_CONTROLLER_ENV"); env != "" {
		// An experiment: settings such as GOGC=50, space separated.
		p.cmd.Env = append(os.Environ(), strings.Fields(env)...)
	}
	p.cmd.Stdout, p.cmd.Stderr = logs, logs
	if err := p.cmd.Start(); err != nil {
		logs.Close()
		p.cgroup.remove()
		return nil, fmt.Errorf("starting controller: %w", err)
	}
	go func() {
		_ = p.cmd.Wait()
		logs.Close()
		p.cgroup.remove()
		close(p.done)
	}()
	go p.sample(filepath.Join(dir, "rss.tsv"))
	return p, nil
}

// sample records the peaks of the controller's anonymous and file-backed
// resident memory (VmHWM holds only their peak sum) and of its cgroup's
// working set, every 50 ms, and writes each sample to trace (seconds since
// start, KiB anon, KiB file, KiB working set).
func (p *controllerProc) sample(trace string) {
	path := fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid)
	out, err := os.Create(trace)
	if err == nil {
		defer out.Close()
	}
	w := bufio.NewWriter(io.Discard)
	if out != nil {
		w = bufio.NewWriter(out)
		defer w.Flush()
		fmt.Fprintln(w, "seconds\tanon_kib\tfile_kib\tws_kib")
	}
	start := time.Now()
	for {
		select {
		case <-p.done:
			return
		case <-time.After(50 * time.Millisecond):
		}
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		anon, file := statusKiB(string(b), "RssAnon:"), statusKiB(string(b), "RssFile:")
		ws, _ := p.cgroup.workingSetKiB()
		fmt.Fprintf(w, "%.2f\t%.0f\t%.0f\t%.0f\n", time.Since(start).Seconds(), anon, file, ws)
		p.mu.Lock()
		p.anonPeakKiB, p.filePeakKiB, p.wsKiB = max(p.anonPeakKiB, anon), max(p.filePeakKiB, file), max(p.wsKiB, ws)
		p.mu.Unlock()
	}
}

// peaks returns the sampled peaks of anonymous and file-backed resident
// memory and of the cgroup's working set, in MiB.
func (p *controllerProc) peaks() (anonMiB, fileMiB, workingSetMiB float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.anonPeakKiB / 1024, p.filePeakKiB / 1024, p.wsKiB / 1024
}

// statusKiB reads one "Key:   123 kB" line of /proc/PID/status.
func statusKiB(status, key string) float64 {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return n
		}
	}
	return 0
}

// stop kills the controller and waits for it.
func (p *controllerProc) stop() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// usage returns the controller's peak resident memory (VmHWM) in MiB and
// the CPU time it used (user + system) in seconds.
func (p *controllerProc) usage() (rssPeakMiB, cpuSeconds float64, err error) {
	return procUsage(p.cmd.Process.Pid)
}

func procUsage(pid int) (float64, float64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("reading process status: %w", err)
	}
	hwmKiB := statusKiB(string(status), "VmHWM:")
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("reading process stat: %w", err)
	}
	// Fields after the command (which may hold spaces) start at field 3.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(fields) < 13 {
		return 0, 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	const clockTicks = 100 // USER_HZ on Linux
	return hwmKiB / 1024, (utime + stime) / clockTicks, nil
}

// requests returns the controller's count of API requests so far, from
// client-go's rest_client_requests_total on its metrics endpoint.
func (p *controllerProc) requests(ctx context.Context) (float64, error) {
	body, err := get(ctx, "http://"+p.metricsAddr+"/metrics")
	if err != nil {
		return 0, err
	}
	defer body.Close()
	total := 0.0
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "rest_client_requests_total{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			total += v
		}
	}
	return total, sc.Err()
}

// profile saves the pprof profile name (with query) into path.
func (p *controllerProc) profile(ctx context.Context, name, path string) error {
	if p.pprofAddr == "" {
		return nil
	}
	body, err := get(ctx, "http://"+p.pprofAddr+"/debug/pprof/"+name)
	if err != nil {
		return err
	}
	defer body.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating profile: %w", err)
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return fmt.Errorf("writing profile: %w", err)
	}
	return f.Close()
}

func get(ctx context.Context, url string) (io.ReadCloser, error) {
	var lastErr error
	for range 50 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil && resp.StatusCode == http.StatusOK {
			return resp.Body, nil
		}
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil, lastErr
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
