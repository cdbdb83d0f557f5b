//go:build bench

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/components/repo"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// drPath is where the disaster-recovery repository keeps the cluster.
const drPath = "clusters/bench"

// measureDR times `capstan bootstrap --kubeconfig` onto the fresh cluster
// from a repository that already holds everything, capstan-system/
// included, until the root Sync is Ready (bootstrap waits for that). The
// controller is started beside it as soon as bootstrap has created its
// ServiceAccount, as the Deployment's pod would be.
func measureDR(ctx context.Context, t testing.TB, binary string, cluster *testenv.Cluster, n int, dir string, timeout time.Duration) (figures, error) {
	f := figures{}
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "fleet")
	files, err := drFiles(ctx, binary, srv.HTTPURL("fleet"), n)
	if err != nil {
		return f, err
	}
	head := srv.Commit(t, "fleet", "main", files, "a cluster to recover")

	admin, err := newAdmin(cluster)
	if err != nil {
		return f, err
	}
	ctx, cancel := context.WithCancel(ctx)
	ctrlDone := make(chan error, 1)
	go func() { ctrlDone <- runControllerWhenInstalled(ctx, binary, admin, cluster, dir) }()
	defer func() {
		cancel()
		if err := <-ctrlDone; err != nil {
			t.Logf("controller beside the recovery bootstrap: %v", err)
		}
	}()

	args := []string{"bootstrap", "--url", srv.HTTPURL("fleet"), "--path", drPath, "--kubeconfig", cluster.Kubeconfig,
		"--username", srv.Username(), "--timeout", timeout.String()}
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), "CAPSTAN_GIT_PASSWORD="+srv.Password(), "NO_COLOR=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	f["t_dr_s"] = time.Since(start).Seconds()
	_ = os.WriteFile(filepath.Join(dir, "bootstrap.log"), out.Bytes(), 0o644)
	if err != nil {
		return f, fmt.Errorf("capstan bootstrap: %w\n%s", err, tailString(out.String(), 4000))
	}
	if got := srv.BranchHead(t, "fleet", "main"); got != head {
		return f, fmt.Errorf("the recovery bootstrap made a commit (%s -> %s): the repository did not hold everything", head, got)
	}
	root := &capstanv1.Sync{}
	if err := admin.Get(ctx, client.ObjectKey{Namespace: manifests.Namespace, Name: repo.RootSyncName}, root); err != nil {
		return f, fmt.Errorf("reading the root Sync: %w", err)
	}
	if !readyAt("main@sha1:" + head)(root) {
		return f, fmt.Errorf("bootstrap returned but the root Sync is not Ready at %s: %s", head, describe(root))
	}
	if inv := root.Status.Inventory; inv == nil || len(inv.Entries) < n {
		return f, fmt.Errorf("the root Sync's inventory holds fewer than the %d objects of the mix", n)
	}
	return f, nil
}

// drFiles renders what bootstrap keeps in the repository (with the
// version of binary, so that bootstrap finds nothing to change) and the
// n-object mix beside it.
func drFiles(ctx context.Context, binary, url string, n int) (map[string]string, error) {
	out, err := exec.CommandContext(ctx, binary, "version", "-o", "json").Output()
	if err != nil {
		return nil, fmt.Errorf("capstan version: %w", err)
	}
	var v struct{ Version string }
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("reading capstan version: %w", err)
	}
	settings, _ := repo.Resolve(repo.Flags{}, nil, v.Version)
	rendered, err := repo.RenderFiles(repo.Input{URL: url, Branch: "main", Path: drPath, HasCredentials: true, Settings: settings})
	if err != nil {
		return nil, err
	}
	files, err := newWorkload(n, "dr").files(drPath + "/apps")
	if err != nil {
		return nil, err
	}
	for p, b := range rendered {
		files[p] = string(b)
	}
	return files, nil
}

// runControllerWhenInstalled waits for the controller's ServiceAccount and
// runs the controller until ctx is done.
func runControllerWhenInstalled(ctx context.Context, binary string, admin client.Client, cluster *testenv.Cluster, dir string) error {
	key := client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.ControllerName}
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		return admin.Get(ctx, key, &corev1.ServiceAccount{}) == nil, nil
	})
	if err != nil {
		return nil
	}
	p, err := startController(ctx, binary, cluster.Config, dir, false)
	if err != nil {
		return err
	}
	<-ctx.Done()
	p.stop()
	return nil
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
