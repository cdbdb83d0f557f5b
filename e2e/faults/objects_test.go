package faults

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// revLabel on a test ConfigMap names the commit that last wrote it, so that
// the progress of an apply can be counted cheaply.
const revLabel = "faults.capstan.dev/rev"

// configMap is the manifest of a ConfigMap whose data.value and rev label
// are value.
func configMap(ns, name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\n  labels:\n    %s: %q\ndata:\n  value: %q\n",
		name, ns, revLabel, value, value)
}

func namespace(name string) string {
	return "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n"
}

// bulk returns the manifests of ConfigMaps cm-<from>..cm-<to-1>, one file
// each, with value.
func bulk(ns string, from, to int, value string) map[string]string {
	files := map[string]string{}
	for i := from; i < to; i++ {
		files[bulkFile(i)] = configMap(ns, bulkName(i), value)
	}
	return files
}

func bulkFile(i int) string { return fmt.Sprintf("cm/%04d.yaml", i) }
func bulkName(i int) string { return fmt.Sprintf("cm-%04d", i) }

// owned returns the ConfigMaps in ns that carry the labels of Sync
// syncNS/syncName, by name.
func owned(t *testing.T, c client.Client, ns, syncNS, syncName string) map[string]corev1.ConfigMap {
	t.Helper()
	list := &corev1.ConfigMapList{}
	err := c.List(t.Context(), list, client.InNamespace(ns),
		client.MatchingLabels{capstanv1.SyncNameLabel: syncName, capstanv1.SyncNamespaceLabel: syncNS})
	if err != nil {
		t.Fatalf("listing ConfigMaps in %s: %v", ns, err)
	}
	out := map[string]corev1.ConfigMap{}
	for _, cm := range list.Items {
		out[cm.Name] = cm
	}
	return out
}

// countAt counts the ConfigMaps in ns last written by commit value, reading
// metadata only; -1 means the API server did not answer.
func countAt(ctx context.Context, c client.Client, ns, value string) int {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMapList"))
	if err := c.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{revLabel: value}); err != nil {
		return -1
	}
	return len(list.Items)
}

// getConfigMap reads a ConfigMap, or returns nil if it does not exist.
func getConfigMap(t *testing.T, c client.Client, ns, name string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, cm); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil
		}
		t.Fatalf("reading ConfigMap %s/%s: %v", ns, name, err)
	}
	return cm
}
