package drill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/capstan-gitops/capstan/components/repo"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/clusters"
	"github.com/capstan-gitops/capstan/clusters/kwok"
	"github.com/capstan-gitops/capstan/components/controller"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
	"github.com/capstan-gitops/capstan/internal/volumes"
)

// Bounds of the throwaway cluster's life.
const (
	// deleteTimeout bounds the deletion, which runs even after ctx ended.
	deleteTimeout = 2 * time.Minute
	// installTimeout bounds the wait for the components' CRDs.
	installTimeout = 2 * time.Minute
	// controllerShutdown bounds how long in-flight reconciles may run once
	// the drill is over.
	controllerShutdown = 5 * time.Second
)

// throwaway is the simulated cluster of one drill.
type throwaway struct {
	provider *kwok.Provider
	cluster  clusters.Cluster
	client   client.Client
	version  string
	// stopVolumes ends the volume provisioner.
	stopVolumes func()
}

// newThrowaway prepares a kwok cluster with a unique name under workDir.
func newThrowaway(binDir, workDir string) (*throwaway, error) {
	p, err := kwok.New(kwok.Options{Name: "drill-" + randomSuffix(), Nodes: 2, WorkDir: workDir, BinDir: binDir})
	if err != nil {
		return nil, err
	}
	return &throwaway{provider: p}, nil
}

// create starts the cluster and connects to it as admin.
func (t *throwaway) create(ctx context.Context) error {
	c, err := t.provider.Ensure(ctx)
	if err != nil {
		return err
	}
	t.cluster = c
	c.Config.QPS, c.Config.Burst = 100, 200
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("creating clientset: %w", err)
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		return fmt.Errorf("asking the API server for its version: %w", err)
	}
	t.version = v.Major + "." + strings.TrimSuffix(v.Minor, "+")
	kc, err := kubeclient.ConnectConfig(ctx, c.Config, 0)
	if err != nil {
		return err
	}
	t.client = kc
	// Like the k3d cluster it stands for, the cluster binds claims of k3s's
	// default StorageClass to volumes on their pods' nodes.
	stop, err := volumes.Start(context.WithoutCancel(ctx), kc)
	if err != nil {
		return err
	}
	t.stopVolumes = stop
	return nil
}

// delete removes the cluster and its state, with a context of its own: it
// must also run after Ctrl-C or the timeout.
func (t *throwaway) delete(ctx context.Context) error {
	if t.stopVolumes != nil {
		t.stopVolumes()
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	if err := t.provider.Delete(dctx); err != nil {
		return fmt.Errorf("deleting the throwaway cluster %s: %w", t.provider.Context(), err)
	}
	return nil
}

// install applies the components with the one install bootstrap uses, then
// the git credentials Secret and the decryption key Secret, as bootstrap
// stores them.
func (t *throwaway) install(ctx context.Context, objs []*unstructured.Unstructured, opts Options) error {
	if _, err := repo.Install(ctx, t.client, objs, repo.InstallOptions{Timeout: installTimeout}); err != nil {
		return err
	}
	if !opts.Auth.IsZero() {
		if err := repo.ApplyCredentials(ctx, t.client, opts.Auth); err != nil {
			return err
		}
	}
	if len(opts.AgeKey) > 0 {
		return repo.ApplyDecryptionKey(ctx, t.client, opts.AgeKey)
	}
	return nil
}

// controllerAccount returns the ServiceAccount the components run the
// controller as.
func controllerAccount(objs []*unstructured.Unstructured) (namespace, name string) {
	for _, o := range objs {
		if o.GetKind() == "Deployment" && o.GetName() == manifests.ControllerName {
			if sa, _, _ := unstructured.NestedString(o.Object, "spec", "template", "spec", "serviceAccountName"); sa != "" {
				return o.GetNamespace(), sa
			}
		}
	}
	return manifests.Namespace, manifests.ControllerName
}

// runController starts the controller in this process with the token of
// its ServiceAccount, so that the RBAC committed in git is what it gets (the
// simulated nodes run no containers). stop ends it and waits.
func (t *throwaway) runController(ctx context.Context, opts Options, workDir string, namespace, account string) (stop func(), err error) {
	cfg, err := kubeclient.ServiceAccountConfig(ctx, t.cluster.Config, namespace, account)
	if err != nil {
		return nil, err
	}
	mgr, err := controller.NewManager(controller.Options{
		Config:           cfg,
		Logger:           opts.Logger,
		MetricsAddr:      "0",
		HealthAddr:       "0",
		Concurrent:       4,
		WorkDir:          filepath.Join(workDir, "controller"),
		GracefulShutdown: controllerShutdown,
	})
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = mgr.Start(cctx)
	}()
	return func() {
		cancel()
		<-done
	}, nil
}

// newWorkDir creates the drill's directory under the kwok state directory.
func newWorkDir(parent string) (string, error) {
	if strings.Contains(parent, ",") {
		// kwok reads its config paths as a comma-separated list.
		return "", fmt.Errorf("the simulated cluster cannot live under %s: kwok refuses paths with a comma; set CAPSTAN_CACHE to another directory", parent)
	}
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", parent, err)
	}
	dir, err := os.MkdirTemp(parent, "drill-")
	if err != nil {
		return "", fmt.Errorf("creating the drill's work dir: %w", err)
	}
	return dir, nil
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
