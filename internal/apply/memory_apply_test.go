package apply

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// countingClient counts the dry runs and writes that go through it.
type countingClient struct {
	client.WithWatch
	dryRuns, writes atomic.Int64
}

func newCountingClient(t *testing.T) *countingClient {
	t.Helper()
	c, err := client.NewWithWatch(testCluster(t).Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingClient{}
	count := func(dryRun []string) {
		if len(dryRun) > 0 {
			cc.dryRuns.Add(1)
		} else {
			cc.writes.Add(1)
		}
	}
	cc.WithWatch = interceptor.NewClient(c, interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			count((&client.PatchOptions{}).ApplyOptions(opts).DryRun)
			return c.Patch(ctx, obj, patch, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			count((&client.ApplyOptions{}).ApplyOptions(opts).DryRun)
			return c.Apply(ctx, obj, opts...)
		},
	})
	return cc
}

func (c *countingClient) take() (dryRuns, writes int64) {
	return c.dryRuns.Swap(0), c.writes.Swap(0)
}

func TestMemorySkipsTheDryRunOfObjectsNobodyTouched(t *testing.T) {
	t.Parallel()
	ns := testCluster(t).Namespace(t)
	c := newCountingClient(t)
	mem := NewMemory()
	apply := func(objs ...string) Result {
		t.Helper()
		res, err := NewManager(c, owner).WithMemory(mem).Apply(t.Context(), objects(t, objs...), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b, cm3 := cm(ns, "a", ""), cm(ns, "b", ""), cm(ns, "c", "")
	if res := apply(a, b, cm3); res.Count(Created) != 3 {
		t.Fatalf("first apply: %+v", res)
	}
	if d, w := c.take(); d != 3 || w != 3 {
		t.Errorf("first apply: %d dry runs, %d writes; want 3 and 3", d, w)
	}
	rv := version(t, c, ns, "b")

	// Nothing moved: no dry run, no write.
	if res := apply(a, b, cm3); res.Count(Unchanged) != 3 {
		t.Fatalf("second apply: %+v", res)
	}
	if d, w := c.take(); d != 0 || w != 0 {
		t.Errorf("second apply: %d dry runs, %d writes; want none", d, w)
	}

	// A hand edit moves b's resourceVersion: b alone is checked and reverted.
	live := &unstructured.Unstructured{}
	live.SetAPIVersion("v1")
	live.SetKind("ConfigMap")
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "b"}, live); err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(live.Object, "edited", "data", "k")
	if err := c.Update(t.Context(), live); err != nil {
		t.Fatal(err)
	}
	if res := apply(a, b, cm3); res.Count(Changed) != 1 || res.Count(Unchanged) != 2 {
		t.Fatalf("apply after a hand edit: %+v", res)
	}
	if d, w := c.take(); d != 1 || w != 1 {
		t.Errorf("apply after a hand edit: %d dry runs, %d writes; want 1 and 1", d, w)
	}
	if v := data(t, c, ns, "b"); v != "v" {
		t.Errorf("hand edit not reverted: b.data.k = %q", v)
	}
	if version(t, c, ns, "b") == rv {
		t.Error("b was reverted without a write")
	}

	// A new desired a: a alone is checked and written.
	a2 := strings.Replace(a, "k: v", "k: v2", 1)
	if res := apply(a2, b, cm3); res.Count(Changed) != 1 {
		t.Fatalf("apply of a new a: %+v", res)
	}
	if d, w := c.take(); d != 1 || w != 1 {
		t.Errorf("apply of a new a: %d dry runs, %d writes; want 1 and 1", d, w)
	}
}

func TestWaitWatchesUntilCurrentAndReportsTimeouts(t *testing.T) {
	t.Parallel()
	ns := testCluster(t).Namespace(t)
	c := newCountingClient(t)
	m := NewManager(c, owner)
	deploy := func(name, nodeSelector string) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  namespace: %s
spec:
  replicas: 2
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      nodeSelector: {%s}
      containers: [{name: app, image: example.invalid/app:1}]
`, name, ns, name, name, nodeSelector)
	}
	objs := objects(t, deploy("up", ""), deploy("stuck", "nowhere: node"), cm(ns, "plain", ""))
	if _, err := m.Apply(t.Context(), objs, Options{}); err != nil {
		t.Fatal(err)
	}
	up := Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "up"}
	plain := Ref{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "plain"}
	if err := m.Wait(t.Context(), []Ref{up, plain}, time.Minute); err != nil {
		t.Fatalf("waiting for a deployment that can run: %v", err)
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(up.GVK())
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "up"}, live); err != nil {
		t.Fatal(err)
	}
	if avail, _, _ := unstructured.NestedInt64(live.Object, "status", "availableReplicas"); avail != 2 {
		t.Errorf("Wait returned with %d of 2 replicas available", avail)
	}
	stuck := up
	stuck.Name = "stuck"
	err := m.Wait(t.Context(), []Ref{up, stuck}, 3*time.Second)
	if err == nil || !strings.Contains(err.Error(), "timeout waiting for") || !strings.Contains(err.Error(), "Deployment/"+ns+"/stuck") ||
		strings.Contains(err.Error(), "/up ") {
		t.Errorf("waiting for a deployment that cannot run: %v; want a timeout naming only stuck", err)
	}
}

func version(t *testing.T, c client.Client, ns, name string) string {
	t.Helper()
	return configMap(t, c, ns, name).GetResourceVersion()
}

func data(t *testing.T, c client.Client, ns, name string) string {
	t.Helper()
	v, _, _ := unstructured.NestedString(configMap(t, c, ns, name).Object, "data", "k")
	return v
}

func configMap(t *testing.T, c client.Client, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatal(err)
	}
	return u
}
