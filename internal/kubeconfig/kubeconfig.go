// Package kubeconfig loads client configuration the way kubectl does:
// --kubeconfig, then $KUBECONFIG, then ~/.kube/config, then the in-cluster
// service account.
package kubeconfig

import (
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Load returns the client configuration for path (empty: the default
// loading rules) and context (empty: the current context).
func Load(path, context string) (*rest.Config, error) {
	cfg, err := ClientConfig(path, context).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	return cfg, nil
}

// ClientConfig returns the deferred-loading client configuration for path
// and context, for callers that also need the namespace or raw config.
func ClientConfig(path, context string) clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	overrides := &clientcmd.ConfigOverrides{CurrentContext: context}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
}
