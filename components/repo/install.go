package repo

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/apply"
)

// InstallOptions tune Install.
type InstallOptions struct {
	// Timeout bounds the apply and, with WaitController, the wait.
	Timeout time.Duration
	// WaitController waits until the controller Deployment is available
	// (bootstrap); a drill runs the controller in its own process instead.
	WaitController bool
}

// Install applies the controller components the way every install does:
// as the root Sync's own objects, so that the controller adopts them at its
// first reconcile, CRDs and Namespaces first. It is the one install shared
// by bootstrap and the drill.
func Install(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, opts InstallOptions) (apply.Result, error) {
	mgr := apply.NewManager(c, RootOwner())
	res, err := mgr.Apply(ctx, objs, apply.Options{Timeout: opts.Timeout})
	if err != nil {
		return apply.Result{}, fmt.Errorf("applying components: %w", err)
	}
	if !opts.WaitController {
		return res, nil
	}
	deploy := apply.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: manifests.Namespace, Name: manifests.ControllerName}
	if err := mgr.Wait(ctx, []apply.Ref{deploy}, opts.Timeout); err != nil {
		return res, fmt.Errorf("the controller did not become available: %w", err)
	}
	return res, nil
}
