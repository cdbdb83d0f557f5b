// Package uninstall removes Capstan from a cluster and keeps the workloads
// it applied: it suspends every Sync and deletes it without pruning (its
// finalizer removed), then deletes the controller, its RBAC, the Sync CRD
// and the capstan-system namespace, waiting until each is gone so that
// nothing is left Terminating. Git is not touched.
package uninstall

import (
	"context"
	"fmt"
	"io"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
)

// DefaultTimeout bounds the wait for each deleted object to be gone.
const DefaultTimeout = 2 * time.Minute

// Options tune an uninstall.
type Options struct {
	// DryRun prints what would be removed and changes nothing.
	DryRun bool
	// Timeout bounds the wait for each object to be gone (default DefaultTimeout).
	Timeout time.Duration
}

// step is one object to remove.
type step struct {
	kind, key string
	obj       *unstructured.Unstructured
	sync      *capstanv1.Sync
}

func (s step) String() string { return s.kind + " " + s.key }

// Run removes Capstan, printing one line per object to out. Running it
// again, or after an interrupted run, removes what is left.
func Run(ctx context.Context, c client.Client, opts Options, out io.Writer) error {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	steps, err := plan(ctx, c)
	if err != nil {
		return err
	}
	if len(steps) == 0 {
		_, err := fmt.Fprintln(out, "✓ nothing to remove: Capstan is not installed here")
		return err
	}
	for _, s := range steps {
		if opts.DryRun {
			fmt.Fprintf(out, "► would %s\n", s.describe())
			continue
		}
		if err := s.remove(ctx, c, opts.Timeout); err != nil {
			return err
		}
		fmt.Fprintf(out, "✓ %s\n", s.done())
	}
	if !opts.DryRun {
		_, err = fmt.Fprintln(out, "✓ Capstan removed; the objects it applied are still in the cluster, and git is unchanged")
	}
	return err
}

// plan lists what exists of Capstan, in the order it is removed: the Syncs
// first, so that the controller stops touching anything, the namespace last.
func plan(ctx context.Context, c client.Client) ([]step, error) {
	var steps []step
	list := &capstanv1.SyncList{}
	err := c.List(ctx, list)
	switch {
	case apimeta.IsNoMatchError(err):
	case err != nil:
		return nil, kubeclient.Explain(err, "listing syncs", client.ObjectKey{})
	}
	for i := range list.Items {
		s := &list.Items[i]
		steps = append(steps, step{kind: "Sync", key: s.Namespace + "/" + s.Name, sync: s})
	}
	objs, err := components()
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.GroupVersionKind())
		err := c.Get(ctx, client.ObjectKeyFromObject(o), live)
		switch {
		case err == nil:
			steps = append(steps, step{kind: o.GetKind(), key: keyOf(o), obj: o})
		case !isGone(err):
			return nil, kubeclient.Explain(err, "reading "+o.GetKind()+" "+keyOf(o), client.ObjectKey{})
		}
	}
	return steps, nil
}

// components returns Capstan's installed objects in removal order: the
// reverse of the install order, with the CRD just before the namespace.
func components() ([]*unstructured.Unstructured, error) {
	objs, err := manifests.Render(manifests.DefaultOptions("v0.0.0"))
	if err != nil {
		return nil, err
	}
	var ns, crd *unstructured.Unstructured
	var rest []*unstructured.Unstructured
	for i := len(objs) - 1; i >= 0; i-- {
		switch objs[i].GetKind() {
		case "Namespace":
			ns = objs[i]
		case "CustomResourceDefinition":
			crd = objs[i]
		default:
			rest = append(rest, objs[i])
		}
	}
	for _, o := range []*unstructured.Unstructured{crd, ns} {
		if o != nil {
			rest = append(rest, o)
		}
	}
	return rest, nil
}

func keyOf(o client.Object) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
}

func (s step) describe() string {
	if s.sync != nil {
		return "suspend and delete " + s.String() + " without pruning its objects"
	}
	return "delete " + s.String()
}

func (s step) done() string {
	if s.sync != nil {
		return s.String() + " suspended and deleted; its objects stay"
	}
	return s.String() + " deleted"
}
