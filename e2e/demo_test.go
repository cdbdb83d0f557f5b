package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// demoObjects is the file `hack/demo --objects-out` writes.
type demoObjects struct {
	First, Rebuilt struct {
		Syncs   []string `json:"syncs"`
		Objects []string `json:"objects"`
		Missing []string `json:"missing"`
		Secret  string   `json:"secret"`
	}
	Pushed           string `json:"pushed"`
	HeadAfterRebuild string `json:"headAfterRebuild"`
	SecretDigest     string `json:"secretDigest"`
}

// TestDemo runs `make demo`'s program as a newcomer would, to the end, and
// interrupted half-way; both times nothing it started may be left behind.
func TestDemo(t *testing.T) {
	t.Parallel()
	demo := filepath.Join(t.TempDir(), "demo")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", demo, "../hack/demo").CombinedOutput(); err != nil {
		t.Fatalf("building hack/demo: %v\n%s", err, out)
	}
	t.Run("rebuilds the same cluster", func(t *testing.T) {
		t.Parallel()
		testDemoRebuilds(t, demo)
	})
	t.Run("cleans up when interrupted", func(t *testing.T) {
		t.Parallel()
		testDemoInterrupted(t, demo)
	})
}

// demoCmd prepares the demo with its own work dir under the test's.
func demoCmd(t *testing.T, demo string, extra ...string) (*exec.Cmd, string) {
	work := filepath.Join(t.TempDir(), "work")
	args := append([]string{"--capstan", binary, "--examples", "../examples/dwk", "--work-dir", work}, extra...)
	cmd := exec.CommandContext(t.Context(), demo, args...)
	return cmd, work
}

func testDemoRebuilds(t *testing.T, demo string) {
	objects := filepath.Join(t.TempDir(), "objects.json")
	cmd, work := demoCmd(t, demo, "--objects-out", objects)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("demo took %s:\n%s", time.Since(start).Round(time.Second), stdout.String())
	if err != nil {
		t.Fatalf("demo: %v\nstderr:\n%s", err, stderr.String())
	}
	assertNothingLeft(t, work)

	data, err := os.ReadFile(objects)
	if err != nil {
		t.Fatalf("reading the object lists: %v", err)
	}
	var got demoObjects
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	if !slices.Equal(got.First.Objects, got.Rebuilt.Objects) || len(got.First.Missing)+len(got.Rebuilt.Missing) > 0 {
		t.Errorf("rebuilt cluster differs:\nfirst:   %v\nrebuilt: %v\nmissing: %v %v", got.First.Objects, got.Rebuilt.Objects, got.First.Missing, got.Rebuilt.Missing)
	}
	// What examples/dwk declares, and Capstan itself, are among the objects.
	for _, want := range []string{
		"Namespace web", "Deployment.apps web/web", "Service web/web", "Ingress.networking.k8s.io web/web", "ConfigMap web/web-config",
		"Deployment.apps todo/todo", "Service todo/todo", "CustomResourceDefinition.apiextensions.k8s.io backups.dwk.example.com",
		"Backup.dwk.example.com web/nightly", "Deployment.apps capstan-system/capstan-controller", "Sync.capstan.dev capstan-system/capstan-system",
	} {
		if !slices.Contains(got.Rebuilt.Objects, want) {
			t.Errorf("the rebuilt cluster lacks %s: %v", want, got.Rebuilt.Objects)
		}
	}
	// The Secret encrypted into git holds its value in both clusters: the
	// rebuild restored it with the key file alone.
	if !strings.HasPrefix(got.SecretDigest, "sha256:") || got.First.Secret != got.SecretDigest || got.Rebuilt.Secret != got.SecretDigest {
		t.Errorf("Secret web/db-credentials: encrypted %q, first cluster %q, rebuilt %q: want the same value in both", got.SecretDigest, got.First.Secret, got.Rebuilt.Secret)
	}
	if !slices.Contains(got.Rebuilt.Objects, "Secret web/db-credentials") {
		t.Errorf("the rebuilt cluster's Syncs did not apply Secret web/db-credentials: %v", got.Rebuilt.Objects)
	}
	if strings.Contains(stdout.String()+stderr.String(), "AGE-SECRET-KEY-") {
		t.Error("the demo printed the age private key")
	}
	wantSync := "capstan-system/capstan-system at main@sha1:" + got.Pushed
	if !slices.Equal(got.First.Syncs, []string{wantSync}) || !slices.Equal(got.Rebuilt.Syncs, got.First.Syncs) {
		t.Errorf("Syncs: first %v, rebuilt %v; want both [%s]", got.First.Syncs, got.Rebuilt.Syncs, wantSync)
	}
	if len(got.Pushed) != 40 || got.HeadAfterRebuild != got.Pushed {
		t.Errorf("branch head after bootstrap %q, after the rebuild %q: want one pushed commit, then none", got.Pushed, got.HeadAfterRebuild)
	}
	for _, want := range []string{"capstan bootstrap --kwok dwk", "capstan status -A", fmt.Sprintf("rebuilt: identical (%d objects)", len(got.Rebuilt.Objects)), "no new commit", "Deployment capstan-system/capstan-controller runs it",
		"--age-key-file", "Secret web/db-credentials restored from git with the same key file"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the story lacks %q", want)
		}
	}
}

func testDemoInterrupted(t *testing.T, demo string) {
	cmd, work := demoCmd(t, demo)
	out := &lineWaiter{want: "capstan controller started", seen: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt in the middle of the first bootstrap: the cluster exists and
	// the controller runs beside it.
	select {
	case <-out.seen:
	case <-time.After(5 * time.Minute):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the demo never started the controller:\n%s", out.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	t.Logf("interrupted demo:\n%s", out.String())
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Errorf("interrupted demo ended with %v, want exit status 1", err)
	}
	for _, want := range []string{"interrupted", "nothing left behind"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the interrupted demo did not say %q", want)
		}
	}
	assertNothingLeft(t, work)
}

// assertNothingLeft checks that the demo's work dir is gone and that no
// process (kwok's control plane, the controller) still refers to it.
func assertNothingLeft(t *testing.T, work string) {
	t.Helper()
	if _, err := os.Stat(work); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the demo left its work dir %s behind (stat: %v)", work, err)
	}
	if runtime.GOOS != "linux" {
		return
	}
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil {
			continue // the process ended
		}
		if bytes.Contains(cmdline, []byte(work)) {
			t.Errorf("process %s still runs from the demo's work dir: %s", filepath.Base(filepath.Dir(p)), bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		}
	}
}

// lineWaiter collects output and closes seen once it contains want.
type lineWaiter struct {
	want string
	seen chan struct{}

	mu   sync.Mutex
	buf  bytes.Buffer
	once sync.Once
}

func (w *lineWaiter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *lineWaiter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
