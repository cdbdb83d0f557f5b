package kubeconfig

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// DefaultPath returns the file kubectl writes contexts to: the first
// existing file of $KUBECONFIG (or its last entry), else ~/.kube/config.
// Providers never fall back to it on their own; callers pass it explicitly
// when the user wants the new context there.
func DefaultPath() string {
	return clientcmd.NewDefaultPathOptions().GetDefaultFilename()
}

// Merge copies the context named contextName, with its cluster and
// user, from cfg into the kubeconfig file at path (created if missing),
// replacing entries of the same names, and makes it the current context.
func Merge(ctx context.Context, path string, cfg *clientcmdapi.Config, contextName string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	kctx, ok := cfg.Contexts[contextName]
	if !ok {
		return fmt.Errorf("merging kubeconfig into %s: context %q not in the cluster's kubeconfig", path, contextName)
	}
	cluster, user := cfg.Clusters[kctx.Cluster], cfg.AuthInfos[kctx.AuthInfo]
	if cluster == nil || user == nil {
		return fmt.Errorf("merging kubeconfig into %s: context %q lacks its cluster or user", path, contextName)
	}
	existing, err := loadOrEmpty(path)
	if err != nil {
		return err
	}
	existing.Clusters[kctx.Cluster] = cluster
	existing.AuthInfos[kctx.AuthInfo] = user
	existing.Contexts[contextName] = kctx
	existing.CurrentContext = contextName
	return writeKubeconfig(path, existing)
}

// RemoveContext deletes the context named contextName from the
// kubeconfig file at path, with its cluster and user when no other context
// uses them. A missing file or context is not an error.
func RemoveContext(ctx context.Context, path, contextName string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cfg, err := loadOrEmpty(path)
	if err != nil {
		return err
	}
	kctx, ok := cfg.Contexts[contextName]
	if !ok {
		return nil
	}
	delete(cfg.Contexts, contextName)
	if !clusterInUse(cfg, kctx.Cluster) {
		delete(cfg.Clusters, kctx.Cluster)
	}
	if !userInUse(cfg, kctx.AuthInfo) {
		delete(cfg.AuthInfos, kctx.AuthInfo)
	}
	if cfg.CurrentContext == contextName {
		cfg.CurrentContext = ""
	}
	return writeKubeconfig(path, cfg)
}

func clusterInUse(cfg *clientcmdapi.Config, name string) bool {
	for _, c := range cfg.Contexts {
		if c.Cluster == name {
			return true
		}
	}
	return false
}

func userInUse(cfg *clientcmdapi.Config, name string) bool {
	for _, c := range cfg.Contexts {
		if c.AuthInfo == name {
			return true
		}
	}
	return false
}

func loadOrEmpty(path string) (*clientcmdapi.Config, error) {
	cfg, err := clientcmd.LoadFromFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return clientcmdapi.NewConfig(), nil
	case err != nil:
		return nil, fmt.Errorf("reading kubeconfig %s: %w", path, err)
	}
	return cfg, nil
}

// writeKubeconfig replaces the file at path (or the file a symlink at path
// points to) atomically, with mode 0600.
func writeKubeconfig(path string, cfg *clientcmdapi.Config) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("writing kubeconfig %s: %w", path, err)
	}
	tmp := fmt.Sprintf("%s.capstan-%d", path, time.Now().UnixNano())
	if err := clientcmd.WriteToFile(*cfg, tmp); err != nil {
		return fmt.Errorf("writing kubeconfig %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing kubeconfig %s: %w", path, err)
	}
	return nil
}

// RESTConfig returns the client configuration of the context named
// contextName in cfg.
func RESTConfig(cfg *clientcmdapi.Config, contextName string) (*rest.Config, error) {
	rc, err := clientcmd.NewNonInteractiveClientConfig(*cfg, contextName, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("client configuration of context %q: %w", contextName, err)
	}
	return rc, nil
}
