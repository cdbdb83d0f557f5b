package ui

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/day2/syncs"
)

// node is one object of a Sync's tree.
type node struct {
	Kind, Group, Namespace, Name string
	Health                       badge
	// Reason is what a person looks for (ImagePullBackOff, …); Message the detail.
	Reason, Message string
	// File declares the object in git ("" for objects the cluster made).
	File     string
	Events   []syncs.Event
	Children []*node
	uid      types.UID
}

// ID is the object's anchor in the page.
func (n *node) ID() string {
	return "obj-" + n.Group + "-" + n.Kind + "-" + n.Namespace + "-" + n.Name
}

// nsNode is one namespace of the tree and its objects.
type nsNode struct {
	Name    string
	Objects []*node
}

// tree is a Sync's objects: cluster-scoped ones, then one branch per
// namespace, with workloads' ReplicaSets and Pods below them.
type tree struct {
	Cluster    []*node
	Namespaces []nsNode
	Count      int
	Unhealthy  int
}

// objectKey identifies an object regardless of its API version.
type objectKey struct{ Group, Kind, Namespace, Name string }

func entryKey(e capstanv1.InventoryEntry) objectKey {
	return objectKey{e.Group, e.Kind, e.Namespace, e.Name}
}

// loadTree reads the objects of s's inventory, one list per kind and
// namespace (selected by the labels the controller sets), and the
// ReplicaSets and Pods of its workloads.
func loadTree(ctx context.Context, c client.Reader, s *capstanv1.Sync, files map[objectKey]string) (tree, error) {
	var entries []capstanv1.InventoryEntry
	if s.Status.Inventory != nil {
		entries = s.Status.Inventory.Entries
	}
	live, err := listOwned(ctx, c, s, entries)
	if err != nil {
		return tree{}, err
	}
	t := tree{}
	byNS := map[string][]*node{}
	var workloads []*node
	for _, e := range entries {
		k := entryKey(e)
		n := &node{Kind: e.Kind, Group: e.Group, Namespace: e.Namespace, Name: e.Name, File: files[k], Health: missing, Message: "not found in the cluster"}
		if res, ok := live[k]; ok {
			if res.err != nil {
				n.Health, n.Message = unknown, res.err.Error()
			} else {
				n.Health, n.Reason, n.Message = healthOf(res.obj)
				n.uid = res.obj.GetUID()
			}
		}
		if e.Namespace == "" {
			t.Cluster = append(t.Cluster, n)
		} else {
			byNS[e.Namespace] = append(byNS[e.Namespace], n)
		}
		if podOwner[e.Group+"/"+e.Kind] && n.uid != "" {
			workloads = append(workloads, n)
		}
	}
	if err := addChildren(ctx, c, workloads); err != nil {
		return tree{}, err
	}
	for ns, objs := range byNS {
		t.Namespaces = append(t.Namespaces, nsNode{Name: ns, Objects: objs})
	}
	sort.Slice(t.Namespaces, func(i, j int) bool { return t.Namespaces[i].Name < t.Namespaces[j].Name })
	t.walk(func(n *node) {
		t.Count++
		if n.Health.Class == "bad" {
			t.Unhealthy++
		}
	})
	return t, nil
}

// walk calls f for every node, parents before children.
func (t tree) walk(f func(*node)) {
	var visit func(ns []*node)
	visit = func(ns []*node) {
		for _, n := range ns {
			f(n)
			visit(n.Children)
		}
	}
	visit(t.Cluster)
	for _, ns := range t.Namespaces {
		visit(ns.Objects)
	}
}

// listed is one object of the inventory as read, or why it could not be.
type listed struct {
	obj *unstructured.Unstructured
	err error
}

// listOwned lists, per kind and namespace of entries, the objects the
// controller labelled as s's.
func listOwned(ctx context.Context, c client.Reader, s *capstanv1.Sync, entries []capstanv1.InventoryEntry) (map[objectKey]listed, error) {
	type scope struct {
		gvk schema.GroupVersionKind
		ns  string
	}
	scopes := map[scope][]objectKey{}
	for _, e := range entries {
		sc := scope{schema.GroupVersionKind{Group: e.Group, Version: e.Version, Kind: e.Kind}, e.Namespace}
		scopes[sc] = append(scopes[sc], entryKey(e))
	}
	out := make(map[objectKey]listed, len(entries))
	sel := client.MatchingLabels{capstanv1.SyncNameLabel: s.Name, capstanv1.SyncNamespaceLabel: s.Namespace}
	for sc, keys := range scopes {
		if statusless[sc.gvk.GroupKind()] {
			if err := listMetadata(ctx, c, sc.gvk, sc.ns, sel, keys, out); err != nil {
				return nil, err
			}
			continue
		}
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(sc.gvk.GroupVersion().WithKind(sc.gvk.Kind + "List"))
		if err := c.List(ctx, list, client.InNamespace(sc.ns), sel); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			for _, k := range keys {
				out[k] = listed{err: fmt.Errorf("listing %s: %w", sc.gvk.Kind, err)}
			}
			continue
		}
		for i := range list.Items {
			o := &list.Items[i]
			out[objectKey{sc.gvk.Group, sc.gvk.Kind, o.GetNamespace(), o.GetName()}] = listed{obj: o}
		}
	}
	return out, nil
}

// statusless are kinds without a status, always Current by kstatus once
// they exist: their objects are listed by metadata only, which is lighter,
// and keeps Secret data out of the UI's memory altogether.
var statusless = map[schema.GroupKind]bool{
	{Kind: "ConfigMap"}: true, {Kind: "Secret"}: true, {Kind: "ServiceAccount"}: true,
	{Group: "rbac.authorization.k8s.io", Kind: "Role"}: true, {Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}: true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}: true, {Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}: true,
	{Group: "networking.k8s.io", Kind: "NetworkPolicy"}: true,
}

// listMetadata lists a status-less kind by metadata: an object that exists
// is healthy; a deleting one is progressing.
func listMetadata(ctx context.Context, c client.Reader, gvk schema.GroupVersionKind, ns string, sel client.MatchingLabels, keys []objectKey, out map[objectKey]listed) error {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := c.List(ctx, list, client.InNamespace(ns), sel); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, k := range keys {
			out[k] = listed{err: fmt.Errorf("listing %s: %w", gvk.Kind, err)}
		}
		return nil
	}
	for i := range list.Items {
		m := &list.Items[i]
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		u.SetNamespace(m.Namespace)
		u.SetName(m.Name)
		u.SetUID(m.UID)
		if m.DeletionTimestamp != nil {
			u.SetDeletionTimestamp(m.DeletionTimestamp)
		}
		out[objectKey{gvk.Group, gvk.Kind, m.Namespace, m.Name}] = listed{obj: u}
	}
	return nil
}

// podOwner are the workload kinds whose Pods (or ReplicaSets) are shown.
var podOwner = map[string]bool{"apps/Deployment": true, "apps/StatefulSet": true, "apps/DaemonSet": true, "batch/Job": true}

// addChildren hangs ReplicaSets under their Deployments and Pods under
// their owners, one list of each per namespace, and marks a workload
// degraded when one of its Pods cannot run.
func addChildren(ctx context.Context, c client.Reader, workloads []*node) error {
	byNS := map[string][]*node{}
	for _, w := range workloads {
		byNS[w.Namespace] = append(byNS[w.Namespace], w)
	}
	for ns, ws := range byNS {
		owners := map[types.UID]*node{}
		for _, w := range ws {
			owners[w.uid] = w
		}
		for _, kind := range []schema.GroupVersionKind{{Group: "apps", Version: "v1", Kind: "ReplicaSet"}, {Version: "v1", Kind: "Pod"}} {
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(kind.GroupVersion().WithKind(kind.Kind + "List"))
			if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
				return fmt.Errorf("listing %ss in %s: %w", kind.Kind, ns, err)
			}
			sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].GetName() < list.Items[j].GetName() })
			for i := range list.Items {
				o := &list.Items[i]
				parent := owners[controllerOf(o.GetOwnerReferences())]
				if parent == nil || (o.GetKind() == "ReplicaSet" && replicas(o) == 0 && parent.Kind == "Deployment" && !current(o)) {
					continue
				}
				child := &node{Kind: o.GetKind(), Group: kind.Group, Namespace: ns, Name: o.GetName(), uid: o.GetUID()}
				child.Health, child.Reason, child.Message = healthOf(o)
				parent.Children = append(parent.Children, child)
				owners[child.uid] = child
			}
		}
	}
	for _, w := range workloads {
		rollUp(w)
	}
	return nil
}

// rollUp marks n degraded, with the reason, when a descendant cannot run.
func rollUp(n *node) (reason string) {
	for _, ch := range n.Children {
		r := rollUp(ch)
		if r == "" && ch.Health.Class == "bad" {
			r = ch.Reason
		}
		if r != "" && reason == "" {
			reason = r
		}
	}
	if reason != "" && n.Health.Class != "bad" {
		n.Health, n.Reason = degraded, reason
	}
	return reason
}

func controllerOf(refs []metav1.OwnerReference) types.UID {
	for _, r := range refs {
		if r.Controller != nil && *r.Controller {
			return r.UID
		}
	}
	return ""
}

func replicas(o *unstructured.Unstructured) int64 {
	n, _, _ := unstructured.NestedInt64(o.Object, "spec", "replicas")
	return n
}

// current reports whether an old ReplicaSet still has pods.
func current(o *unstructured.Unstructured) bool {
	n, _, _ := unstructured.NestedInt64(o.Object, "status", "replicas")
	return n > 0
}

// attachEvents gives each node its recent events and returns the recent
// events of the tree, oldest first, at most limit.
func attachEvents(ctx context.Context, c client.Reader, t *tree, limit int) ([]objectEvent, error) {
	index := map[objectKey]*node{}
	t.walk(func(n *node) { index[objectKey{"", n.Kind, n.Namespace, n.Name}] = n })
	var all []objectEvent
	for _, ns := range t.Namespaces {
		list := &corev1.EventList{}
		if err := c.List(ctx, list, client.InNamespace(ns.Name)); err != nil {
			return nil, fmt.Errorf("listing events in %s: %w", ns.Name, err)
		}
		for _, e := range list.Items {
			io := e.InvolvedObject
			n := index[objectKey{"", io.Kind, io.Namespace, io.Name}]
			if n == nil {
				continue
			}
			ev := syncs.ToEvent(e)
			n.Events = append(n.Events, ev)
			all = append(all, objectEvent{Event: ev, Object: io.Kind + "/" + io.Name, Namespace: io.Namespace})
		}
	}
	t.walk(func(n *node) {
		sort.SliceStable(n.Events, func(i, j int) bool { return n.Events[i].Time.Before(n.Events[j].Time) })
		if len(n.Events) > 3 {
			n.Events = n.Events[len(n.Events)-3:]
		}
		if n.Reason == "" || n.Health.Class != "bad" {
			for _, e := range n.Events { // a failed probe is only told by an event
				if e.Type == corev1.EventTypeWarning && e.Reason == "Unhealthy" && n.Health.Class != "ok" {
					n.Health, n.Reason, n.Message = degraded, "ProbeFailed", e.Message
				}
			}
		}
	})
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	if len(all) > limit {
		all = all[len(all)-limit:]
	}
	return all, nil
}

// objectEvent is an event with the object it is about.
type objectEvent struct {
	syncs.Event
	Object, Namespace string
}
