package apply

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

// shared is the one cluster of this package's tests. It starts on the
// first test that asks for it, so that the pure tests, and the processes
// that fuzzing starts (each runs TestMain), start none.
var shared struct {
	once    sync.Once
	cluster *testenv.Cluster
	err     error
}

// testCluster returns the package's cluster, starting it if needed.
func testCluster(t *testing.T) *testenv.Cluster {
	t.Helper()
	shared.once.Do(func() {
		shared.cluster, shared.err = testenv.NewCluster(context.Background(), testenv.ClusterOptions{Nodes: 1})
	})
	if shared.err != nil {
		t.Fatalf("starting the test cluster: %v", shared.err)
	}
	return shared.cluster
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	code := m.Run()
	if c := shared.cluster; c != nil {
		ctx := context.Background()
		c.DumpLogsOnFailure(ctx, code)
		if err := c.Close(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	return code
}

func newClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(testCluster(t).Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func objects(t *testing.T, docs ...string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, d := range docs {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(d), &u.Object); err != nil {
			t.Fatalf("decoding %q: %v", d, err)
		}
		out = append(out, u)
	}
	return out
}

func cm(ns, name string, extra string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\n%sdata:\n  k: v\n", name, ns, extra)
}

var owner = Owner{FieldManager: "capstan", Labels: map[string]string{"capstan.dev/sync-name": "t"}}

func TestApplyWritesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	ns := testCluster(t).Namespace(t)
	m := NewManager(newClient(t), owner)
	res, err := m.Apply(t.Context(), objects(t, cm(ns, "a", ""), cm(ns, "b", "")), Options{})
	if err != nil || res.Count(Created) != 2 {
		t.Fatalf("first apply: %+v, %v", res, err)
	}
	live := &unstructured.Unstructured{}
	live.SetAPIVersion("v1")
	live.SetKind("ConfigMap")
	if err := m.c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "a"}, live); err != nil {
		t.Fatal(err)
	}
	rv := live.GetResourceVersion()
	res, err = m.Apply(t.Context(), objects(t, cm(ns, "a", ""), cm(ns, "b", "")), Options{})
	if err != nil || res.Count(Unchanged) != 2 {
		t.Fatalf("second apply: %+v, %v", res, err)
	}
	if err := m.c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "a"}, live); err != nil {
		t.Fatal(err)
	}
	if live.GetResourceVersion() != rv {
		t.Errorf("unchanged object rewritten: resourceVersion %s -> %s", rv, live.GetResourceVersion())
	}
}

func TestInvalidObjectChangesNothingInItsStage(t *testing.T) {
	t.Parallel()
	ns := testCluster(t).Namespace(t)
	m := NewManager(newClient(t), owner)
	bad := fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\n  namespace: %s\nspec:\n  ports:\n  - port: 99999\n", ns)
	_, err := m.Apply(t.Context(), objects(t, cm(ns, "good", ""), bad), Options{})
	if err == nil || !IsApplyError(err) {
		t.Fatalf("err = %v, want an apply error", err)
	}
	if exists(t, m, Ref{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "good"}) {
		t.Error("a valid object was applied although another object of its stage failed validation")
	}
}

func TestPruneDeletesOnlyOwnedUnprotectedObjects(t *testing.T) {
	t.Parallel()
	ns := testCluster(t).Namespace(t)
	c := newClient(t)
	m := NewManager(c, owner)
	objs := objects(t,
		cm(ns, "owned", ""),
		cm(ns, "opted-out", "  annotations:\n    capstan.dev/prune: disabled\n"),
		cm(ns, "protected", ""),
		cm(ns, "held", "  finalizers:\n  - example.com/hold\n"),
	)
	if _, err := m.Apply(t.Context(), objs, Options{}); err != nil {
		t.Fatal(err)
	}
	// An object of another owner, listed in this owner's inventory by mistake.
	other := NewManager(c, Owner{FieldManager: "capstan", Labels: map[string]string{"capstan.dev/sync-name": "other"}})
	if _, err := other.Apply(t.Context(), objects(t, cm(ns, "foreign", "")), Options{}); err != nil {
		t.Fatal(err)
	}
	ref := func(name string) Ref { return Ref{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: name} }
	stale := []Ref{ref("owned"), ref("opted-out"), ref("protected"), ref("held"), ref("foreign"), ref("already-gone")}
	res, err := m.Prune(t.Context(), stale, PruneOptions{
		Protected:        func(r Ref) bool { return r.Name == "protected" },
		OptOutAnnotation: "capstan.dev/prune", OptOutValue: "disabled",
	})
	if err == nil {
		t.Error("prune of an object held by a finalizer reported no error")
	}
	want := PruneResult{
		Deleted: []Ref{ref("owned"), ref("already-gone")},
		Kept:    []Ref{ref("opted-out"), ref("protected"), ref("foreign")},
		Pending: []Ref{ref("held")},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("prune result (-want +got):\n%s", diff)
	}
	for name, want := range map[string]bool{"owned": false, "opted-out": true, "protected": true, "foreign": true, "held": true} {
		if got := exists(t, m, ref(name)); got != want {
			t.Errorf("%s exists = %v, want %v", name, got, want)
		}
	}
	// Release the finalizer: the next prune completes the deletion.
	held := &unstructured.Unstructured{}
	held.SetGroupVersionKind(ref("held").GVK())
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "held"}, held); err != nil {
		t.Fatal(err)
	}
	held.SetFinalizers(nil)
	if err := c.Update(t.Context(), held); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if res, err := m.Prune(t.Context(), res.Pending, PruneOptions{}); err != nil || len(res.Deleted) != 1 {
		t.Errorf("second prune: %+v, %v", res, err)
	}
}

func exists(t *testing.T, m *Manager, r Ref) bool {
	t.Helper()
	u := r.unstructured()
	err := m.c.Get(t.Context(), client.ObjectKey{Namespace: r.Namespace, Name: r.Name}, u)
	if err != nil && client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	return err == nil
}
