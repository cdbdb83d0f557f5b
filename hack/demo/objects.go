package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/capstan-gitops/capstan/internal/kubeclient"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// snapshot is what one cluster holds of what git declares: each Sync with
// the revision it applied, and every object in the Syncs' inventories that
// exists in the cluster.
type snapshot struct {
	// Syncs are "namespace/name at revision", sorted.
	Syncs []string `json:"syncs"`
	// Objects are "Kind.group namespace/name", sorted.
	Objects []string `json:"objects"`
	// Missing are inventory entries the cluster does not hold.
	Missing []string `json:"missing,omitempty"`
	// Secret is the digest of the value of the Secret the demo encrypted
	// into git, as the cluster holds it ("" when it does not).
	Secret string `json:"secret"`
}

// takeSnapshot waits until every Sync is Ready, then lists what they applied.
func takeSnapshot(ctx context.Context, cfg *rest.Config, timeout time.Duration) (snapshot, error) {
	scheme, err := kubeclient.NewScheme()
	if err != nil {
		return snapshot{}, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return snapshot{}, fmt.Errorf("creating API client: %w", err)
	}
	list := &capstanv1.SyncList{}
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := c.List(ctx, list); err != nil {
			return false, nil
		}
		return len(list.Items) > 0 && allReady(list.Items), nil
	})
	if err != nil {
		return snapshot{}, fmt.Errorf("waiting for every Sync to be Ready: %w", err)
	}
	var snap snapshot
	for _, s := range list.Items {
		snap.Syncs = append(snap.Syncs, s.Namespace+"/"+s.Name+" at "+s.Status.LastAppliedRevision)
		if s.Status.Inventory == nil {
			continue
		}
		for _, e := range s.Status.Inventory.Entries {
			found, err := exists(ctx, c, e)
			if err != nil {
				return snapshot{}, err
			}
			if found {
				snap.Objects = append(snap.Objects, objectName(e))
			} else {
				snap.Missing = append(snap.Missing, objectName(e))
			}
		}
	}
	if snap.Secret, err = secretDigest(ctx, c); err != nil {
		return snapshot{}, fmt.Errorf("reading Secret %s/%s: %w", secretNamespace, secretName, err)
	}
	slices.Sort(snap.Syncs)
	slices.Sort(snap.Objects)
	slices.Sort(snap.Missing)
	return snap, nil
}

func allReady(syncs []capstanv1.Sync) bool {
	for _, s := range syncs {
		if !apimeta.IsStatusConditionTrue(s.Status.Conditions, capstanv1.ReadyCondition) {
			return false
		}
	}
	return true
}

// exists reads one inventory entry from the cluster.
func exists(ctx context.Context, c client.Client, e capstanv1.InventoryEntry) (bool, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: e.Group, Version: e.Version, Kind: e.Kind})
	err := c.Get(ctx, client.ObjectKey{Namespace: e.Namespace, Name: e.Name}, u)
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err) || apimeta.IsNoMatchError(err):
		return false, nil
	default:
		return false, fmt.Errorf("reading %s: %w", objectName(e), err)
	}
}

// objectName names an object the way the demo prints it.
func objectName(e capstanv1.InventoryEntry) string {
	kind := e.Kind
	if e.Group != "" {
		kind += "." + e.Group
	}
	if e.Namespace == "" {
		return kind + " " + e.Name
	}
	return kind + " " + e.Namespace + "/" + e.Name
}

// difference lists what only a holds and what only b holds; both sorted.
func difference(a, b []string) (onlyA, onlyB []string) {
	for _, x := range a {
		if !slices.Contains(b, x) {
			onlyA = append(onlyA, x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			onlyB = append(onlyB, x)
		}
	}
	return onlyA, onlyB
}
