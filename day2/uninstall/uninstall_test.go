package uninstall

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// The controller goes first, so that nothing reconciles while the rest is
// removed; the CRD and the namespace last, once nothing in them holds a
// finalizer.
func TestComponentsRemovalOrder(t *testing.T) {
	t.Parallel()
	objs, err := components()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.GetKind()+" "+keyOf(o))
	}
	want := []string{
		"Deployment capstan-system/capstan-controller",
		"Service capstan-system/capstan-webhook",
		"ClusterRoleBinding capstan-controller",
		"ClusterRole capstan-controller",
		"ServiceAccount capstan-system/capstan-controller",
		"CustomResourceDefinition syncs.capstan.dev",
		"Namespace capstan-system",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("removal order (-want +got):\n%s", diff)
	}
}

func TestStepLines(t *testing.T) {
	t.Parallel()
	objs, err := components()
	if err != nil {
		t.Fatal(err)
	}
	sync := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"}}
	steps := []step{{kind: "Sync", key: "apps/web", sync: sync}, {kind: objs[0].GetKind(), key: keyOf(objs[0]), obj: objs[0]}}
	tests := []struct {
		got, want string
	}{
		{steps[0].describe(), "suspend and delete Sync apps/web without pruning its objects"},
		{steps[0].done(), "Sync apps/web suspended and deleted; its objects stay"},
		{steps[1].describe(), "delete Deployment capstan-system/capstan-controller"},
		{steps[1].done(), "Deployment capstan-system/capstan-controller deleted"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
