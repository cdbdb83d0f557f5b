package faults

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

// process is a running capstan executable whose output is kept.
type process struct {
	cmd  *exec.Cmd
	out  *testenv.Buffer
	done chan struct{}
	err  error // how it ended; set before done is closed
}

// startProcess starts bin with args, and env added to the test's
// environment, keeping its stdout and stderr together.
func startProcess(bin string, args, env []string) (*process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &testenv.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// output is what the process wrote so far to the kept stream.
func (p *process) output() string {
	if p == nil {
		return ""
	}
	return p.out.String()
}

// running reports whether the process has not exited yet.
func (p *process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill ends the process with SIGKILL, as the kernel or a node failure
// would, and waits for it. It is safe to call on an exited process.
func (p *process) kill() {
	if p.running() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// terminate sends SIGTERM, as the kubelet does, and waits up to timeout for
// the process to exit. It returns how long the exit took and the exit code,
// or ok=false if the process was still running at the timeout.
func (p *process) terminate(timeout time.Duration) (took time.Duration, code int, ok bool) {
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		return time.Since(start), -1, false
	}
	took = time.Since(start)
	var exitErr *exec.ExitError
	switch {
	case p.err == nil:
		return took, 0, true
	case errors.As(p.err, &exitErr):
		return took, exitErr.ExitCode(), true
	}
	return took, -1, true
}
