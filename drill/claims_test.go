package drill

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/build"
)

const (
	claimOf = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: web}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n"
	sts     = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: pg, namespace: web}\nspec:\n  template: {spec: {containers: [{name: pg}]}}\n  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {storageClassName: standard}\n"
)

// TestMissingStorageClass checks which claims the drill reports at once:
// those naming a StorageClass that neither git nor k3s provides.
func TestMissingStorageClass(t *testing.T) {
	t.Parallel()
	const file = "clusters/dwk/web/data.yaml"
	tests := []struct {
		name string
		docs []string
		want []Problem
	}{
		{name: "a claim of the default class", docs: []string{claimOf}},
		{name: "a claim of k3s's local-path", docs: []string{claimOf + "  storageClassName: local-path\n"}},
		{name: "a claim of no class (static binding)", docs: []string{claimOf + "  storageClassName: \"\"\n"}},
		{
			name: "a claim of a class nothing provides",
			docs: []string{claimOf + "  storageClassName: fast-ssd\n"},
			want: []Problem{{Kind: ProblemMissingStorageClass, Object: "PersistentVolumeClaim web/data", File: file + ":1", Sync: "capstan-system/capstan-system",
				Message: "spec.storageClassName names StorageClass fast-ssd, which no manifest in git creates and k3s does not provide (it has local-path, the default): the claim stays Pending and the pods using it are never scheduled"}},
		},
		{
			name: "a StatefulSet's claim template of a class nothing provides",
			docs: []string{sts},
			want: []Problem{{Kind: ProblemMissingStorageClass, Object: "StatefulSet web/pg", File: file + ":1", Sync: "capstan-system/capstan-system",
				Message: `volumeClaimTemplate "data" names StorageClass standard, which no manifest in git creates and k3s does not provide (it has local-path, the default): the claim stays Pending and the pods using it are never scheduled`}},
		},
		{name: "a class git declares", docs: []string{sts, "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: standard}\nprovisioner: rancher.io/local-path\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := staticSync{Namespace: "capstan-system", Name: "capstan-system", Path: "clusters/dwk"}
			for _, doc := range tt.docs {
				objs, err := build.Decode(file, []byte(doc))
				if err != nil {
					t.Fatal(err)
				}
				s.Objects = append(s.Objects, objs...)
				s.Sources = append(s.Sources, build.Source{File: file, Line: 1})
			}
			tree := []staticSync{s}
			f := clusterFacts()
			for _, gk := range []schema.GroupKind{{Kind: "PersistentVolumeClaim"}, {Group: "apps", Kind: "StatefulSet"}, {Group: "storage.k8s.io", Kind: "StorageClass"}} {
				f.kinds[gk] = kindInfo{Namespaced: gk.Kind != "StorageClass", Versions: map[string]bool{"v1": true}}
			}
			f.health[objectID{Kind: "PersistentVolumeClaim", Namespace: "web", Name: "data"}] = health{Status: "InProgress", Message: "PVC is not Bound"}
			f.health[objectID{Group: "apps", Kind: "StatefulSet", Namespace: "web", Name: "pg"}] = health{Status: "InProgress", Message: "Ready: 0/1"}
			got := diagnose(tree, f, nil, map[string]bool{s.Key(): len(tt.want) > 0})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if doomed := doomedSyncs(tree); doomed[s.Key()] != (len(tt.want) > 0) {
				t.Errorf("doomed = %v, want the Sync only when a class is missing", doomed)
			}
		})
	}
}

// TestWaiterDoesNotWaitForDoomedSyncs: a Sync that applied a claim of a
// missing StorageClass waits for a health that never comes; the wait
// settles without it instead of running into the timeout.
func TestWaiterDoesNotWaitForDoomedSyncs(t *testing.T) {
	t.Parallel()
	scheme := runtime.NewScheme()
	if err := capstanv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Namespace: "capstan-system", Name: "root", Generation: 1}}
	s.Status.Inventory = &capstanv1.Inventory{}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(s).Build()
	for _, doomed := range []bool{false, true} {
		w := newWaiter(c, map[string]bool{"capstan-system/root": doomed})
		if done, _, _ := w.step(t.Context()); done {
			t.Fatalf("doomed=%t: done at once", doomed)
		}
		w.settledSince = time.Now().Add(-settleWindow - time.Second)
		if done, converged, _ := w.step(t.Context()); done != doomed || converged {
			t.Errorf("doomed=%t: step = done %t, converged %t; want done only when doomed", doomed, done, converged)
		}
	}
}
