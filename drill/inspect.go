package drill

import (
	"context"
	"fmt"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/podrefs"
)

// maxHealthChecks bounds how many objects the diagnosis reads.
const maxHealthChecks = 500

// inspect reads the facts the diagnosis needs from the rebuilt cluster:
// the kinds it serves, the Namespaces, Secrets, ConfigMaps and
// ServiceAccounts it holds (names only), and the kstatus of the objects of
// the Syncs that are not Ready.
func inspect(ctx context.Context, cfg *rest.Config, c client.Client, tree []staticSync, notReady map[string]bool) (facts, error) {
	f := facts{existing: map[string]map[string]bool{}, health: map[objectID]health{}}
	var err error
	if f.kinds, err = servedKinds(cfg); err != nil {
		return f, err
	}
	for _, kind := range []string{"Namespace", "Secret", "ConfigMap", "ServiceAccount"} {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: kind + "List"})
		if err := c.List(ctx, list); err != nil {
			return f, fmt.Errorf("listing %ss: %w", kind, err)
		}
		for _, o := range list.Items {
			addName(f.existing, kind, nameKey(kind, o.Namespace, o.Name))
		}
	}
	if err := volumeFacts(ctx, c, &f); err != nil {
		return f, err
	}
	checked := 0
	for _, s := range tree {
		if !notReady[s.Key()] {
			continue
		}
		for _, o := range s.Objects {
			if checked >= maxHealthChecks {
				return f, nil
			}
			if _, isSync := syncOf(o); isSync {
				continue
			}
			checked++
			if h, ok := healthOf(ctx, c, o); ok {
				f.health[idOf(o)] = h
			}
		}
	}
	return f, nil
}

// volumeFacts reads the names of the cluster's StorageClasses and counts
// its PersistentVolumeClaims.
func volumeFacts(ctx context.Context, c client.Client, f *facts) error {
	classes := &storagev1.StorageClassList{}
	if err := c.List(ctx, classes); err != nil {
		return fmt.Errorf("listing StorageClasses: %w", err)
	}
	f.classes = map[string]bool{}
	for _, sc := range classes.Items {
		f.classes[sc.Name] = true
	}
	claims := &metav1.PartialObjectMetadataList{}
	claims.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "PersistentVolumeClaimList"})
	if err := c.List(ctx, claims); err != nil {
		return fmt.Errorf("listing PersistentVolumeClaims: %w", err)
	}
	f.claims = len(claims.Items)
	return nil
}

// servedKinds asks the API server's discovery which kinds it serves.
func servedKinds(cfg *rest.Config) (map[schema.GroupKind]kindInfo, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating discovery client: %w", err)
	}
	_, lists, err := dc.ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, fmt.Errorf("discovering the served kinds: %w", err)
	}
	kinds := map[schema.GroupKind]kindInfo{}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			gk := schema.GroupKind{Group: gv.Group, Kind: r.Kind}
			info, ok := kinds[gk]
			if !ok {
				info = kindInfo{Namespaced: r.Namespaced, Versions: map[string]bool{}}
			}
			info.Versions[gv.Version] = true
			kinds[gk] = info
		}
	}
	return kinds, nil
}

// healthOf reads o from the cluster and computes its kstatus; false when it
// does not exist or cannot be read.
func healthOf(ctx context.Context, c client.Client, o *unstructured.Unstructured) (health, bool) {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(o.GroupVersionKind())
	ns := o.GetNamespace()
	if ns == "" && podrefs.SpecPath(o.GroupVersionKind().Group, o.GetKind()) != nil {
		ns = "default"
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: o.GetName()}, live); err != nil {
		if apierrors.IsNotFound(err) || apimeta.IsNoMatchError(err) {
			return health{}, false // not created: the Sync's failure, or a missing CRD, says why
		}
		return health{Status: "Unknown", Message: err.Error()}, true
	}
	res, err := status.Compute(live)
	if err != nil {
		return health{Status: "Unknown", Message: err.Error()}, true
	}
	h := health{Status: res.Status.String(), Message: res.Message}
	if h.Status != status.CurrentStatus.String() {
		if why := podTrouble(ctx, c, live); why != "" {
			h.Message += "; " + why
		}
	}
	return h, true
}

// podTrouble says why the first pod of a workload that is not Ready is not.
func podTrouble(ctx context.Context, c client.Client, workload *unstructured.Unstructured) string {
	if podrefs.SpecPath(workload.GroupVersionKind().Group, workload.GetKind()) == nil {
		return ""
	}
	sel, found, _ := unstructured.NestedStringMap(workload.Object, "spec", "selector", "matchLabels")
	if !found || len(sel) == 0 {
		return ""
	}
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(workload.GetNamespace()), client.MatchingLabels(sel)); err != nil {
		return ""
	}
	if len(pods.Items) == 0 {
		return "no pods were created"
	}
	for _, p := range pods.Items {
		for _, cond := range p.Status.Conditions {
			if cond.Status == corev1.ConditionFalse && cond.Message != "" {
				return fmt.Sprintf("pod %s: %s: %s", p.Name, orNone(cond.Reason), cond.Message)
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && w.Reason != "" {
				return fmt.Sprintf("pod %s: container %s: %s %s", p.Name, cs.Name, w.Reason, w.Message)
			}
		}
		if p.Status.Phase != corev1.PodRunning {
			return fmt.Sprintf("pod %s is %s on node %q", p.Name, p.Status.Phase, p.Spec.NodeName)
		}
	}
	return ""
}

// syncProblem describes a Sync that is not Ready.
func syncProblem(ls *liveSync, timedOut bool) Problem {
	s := ls.sync
	p := Problem{Object: syncObject(s.Namespace, s.Name)}
	c := readyCondition(&s)
	switch {
	case s.Spec.Suspend:
		p.Kind, p.Message = ProblemSuspended, "spec.suspend is true in git: a new cluster would never apply it"
	case c == nil && timedOut:
		p.Kind, p.Message = ProblemSyncFailed, "its first reconcile had not finished at the timeout (still fetching, applying or waiting for health)"
	case c == nil:
		p.Kind, p.Message = ProblemSyncFailed, "never reconciled"
	default:
		p.Kind, p.Message = ProblemSyncFailed, c.Reason+": "+c.Message
	}
	return p
}

// syncObject names a Sync as a Problem's Object.
func syncObject(namespace, name string) string {
	return capstanv1.SyncKind + " " + namespace + "/" + name
}

func readyCondition(s *capstanv1.Sync) *metav1.Condition {
	for i := range s.Status.Conditions {
		if s.Status.Conditions[i].Type == capstanv1.ReadyCondition {
			return &s.Status.Conditions[i]
		}
	}
	return nil
}
