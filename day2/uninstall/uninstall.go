// Package uninstall removes Capstan from a cluster and keeps the workloads
// it applied: it suspends every Sync, stops the controller, deletes every
// Sync without pruning (its finalizer removed), then the controller's RBAC,
// the Sync CRD and the capstan-system namespace, waiting until each is gone
// so that nothing is left Terminating. Git is not touched.
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
//
// The Syncs are suspended first, so that the controller starts no apply,
// and the controller is stopped (its pods gone) before any Sync is deleted:
// an apply already running when the Syncs were suspended can put back what
// it manages, the root Sync included, and a Sync put back while the
// controller runs gets its finalizer again, which would then hold the CRD
// forever. The Syncs are therefore listed again once the controller is gone.
func Run(ctx context.Context, c client.Client, opts Options, out io.Writer) error {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	p, err := plan(ctx, c)
	if err != nil {
		return err
	}
	if p.empty() {
		_, err := fmt.Fprintln(out, "✓ nothing to remove: Capstan is not installed here")
		return err
	}
	if opts.DryRun {
		for _, s := range p.steps() {
			fmt.Fprintf(out, "► would %s\n", s.describe())
		}
		return nil
	}
	for _, s := range p.syncs {
		if err := suspend(ctx, c, client.ObjectKeyFromObject(s.sync)); err != nil {
			return err
		}
	}
	if p.controller != nil {
		if err := p.controller.remove(ctx, c, opts.Timeout); err != nil {
			return err
		}
		fmt.Fprintf(out, "✓ %s\n", p.controller.done())
	}
	syncs, err := listSyncs(ctx, c)
	if err != nil {
		return err
	}
	for _, s := range append(syncs, p.rest...) {
		if err := s.remove(ctx, c, opts.Timeout); err != nil {
			return err
		}
		fmt.Fprintf(out, "✓ %s\n", s.done())
	}
	_, err = fmt.Fprintln(out, "✓ Capstan removed; the objects it applied are still in the cluster, and git is unchanged")
	return err
}

// removal is what exists of Capstan, in the order it is removed: the
// controller first, so that nothing reconciles, then the Syncs, then the
// rest with the namespace last.
type removal struct {
	controller *step
	syncs      []step
	rest       []step
}

func (p removal) empty() bool { return p.controller == nil && len(p.syncs) == 0 && len(p.rest) == 0 }

func (p removal) steps() []step {
	var all []step
	if p.controller != nil {
		all = append(all, *p.controller)
	}
	return append(append(all, p.syncs...), p.rest...)
}

// plan lists what exists of Capstan.
func plan(ctx context.Context, c client.Client) (removal, error) {
	var p removal
	syncs, err := listSyncs(ctx, c)
	if err != nil {
		return p, err
	}
	p.syncs = syncs
	objs, err := components()
	if err != nil {
		return p, err
	}
	for _, o := range objs {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.GroupVersionKind())
		err := c.Get(ctx, client.ObjectKeyFromObject(o), live)
		switch {
		case err == nil:
			s := step{kind: o.GetKind(), key: keyOf(o), obj: o}
			if o.GetKind() == "Deployment" && o.GetName() == manifests.ControllerName {
				p.controller = &s
				continue
			}
			p.rest = append(p.rest, s)
		case !isGone(err):
			return p, kubeclient.Explain(err, "reading "+o.GetKind()+" "+keyOf(o), client.ObjectKey{})
		}
	}
	return p, nil
}

// listSyncs returns a step for every Sync in the cluster; none when the
// cluster does not serve the Sync API.
func listSyncs(ctx context.Context, c client.Client) ([]step, error) {
	list := &capstanv1.SyncList{}
	err := c.List(ctx, list)
	switch {
	case apimeta.IsNoMatchError(err):
		return nil, nil
	case err != nil:
		return nil, kubeclient.Explain(err, "listing syncs", client.ObjectKey{})
	}
	steps := make([]step, 0, len(list.Items))
	for i := range list.Items {
		s := &list.Items[i]
		steps = append(steps, step{kind: "Sync", key: s.Namespace + "/" + s.Name, sync: s})
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
