package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// repo is a git repository on a test server, and the Secret that reaches it.
type repo struct {
	srv  *testenv.GitServer
	name string
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "config")
	return &repo{srv: srv, name: "config"}
}

// commit writes files on main and returns the revision the controller will report.
func (r *repo) commit(t *testing.T, files map[string]string) string {
	t.Helper()
	return "main@sha1:" + r.srv.Commit(t, r.name, "main", files, "test commit")
}

// httpSecret creates the basic-auth Secret for the repository in ns.
func (r *repo) httpSecret(t *testing.T, ns string) string {
	t.Helper()
	return createSecret(t, ns, "git-http", map[string][]byte{"username": []byte(r.srv.Username()), "password": []byte(r.srv.Password())})
}

func createSecret(t *testing.T, ns, name string, data map[string][]byte) string {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: data}
	if err := env.admin.Create(t.Context(), s); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating secret: %v", err)
	}
	return name
}

// newSync creates a Sync of the repository over HTTP in ns; mutate adjusts its spec.
func (r *repo) newSync(t *testing.T, ns, name string, mutate func(*capstanv1.SyncSpec)) *capstanv1.Sync {
	t.Helper()
	s := &capstanv1.Sync{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: capstanv1.SyncSpec{
			URL:       r.srv.HTTPURL(r.name),
			Interval:  metav1.Duration{Duration: time.Hour},
			SecretRef: &capstanv1.LocalObjectReference{Name: r.httpSecret(t, ns)},
		},
	}
	if mutate != nil {
		mutate(&s.Spec)
	}
	if err := env.admin.Create(t.Context(), s); err != nil {
		t.Fatalf("creating sync: %v", err)
	}
	return s
}

// waitSync polls the Sync until cond holds, failing with its last status.
func waitSync(t *testing.T, ns, name string, timeout time.Duration, cond func(*capstanv1.Sync) bool) *capstanv1.Sync {
	t.Helper()
	s := &capstanv1.Sync{}
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := env.admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return cond(s), nil
	})
	if err != nil {
		t.Fatalf("sync %s/%s: condition not met within %s: %v\nstatus: %s", ns, name, timeout, err, describe(s))
	}
	return s
}

// waitReady waits until the Sync is Ready at revision.
func waitReady(t *testing.T, ns, name, revision string) *capstanv1.Sync {
	t.Helper()
	return waitSync(t, ns, name, 60*time.Second, func(s *capstanv1.Sync) bool {
		return isReady(s) && s.Status.LastAppliedRevision == revision
	})
}

// waitFailed waits until the Sync reports Ready=False with reason at revision.
func waitFailed(t *testing.T, ns, name, reason string) *capstanv1.Sync {
	t.Helper()
	return waitSync(t, ns, name, 60*time.Second, func(s *capstanv1.Sync) bool {
		c := apimeta.FindStatusCondition(s.Status.Conditions, capstanv1.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == reason
	})
}

func readyMessage(s *capstanv1.Sync) string {
	if c := apimeta.FindStatusCondition(s.Status.Conditions, capstanv1.ReadyCondition); c != nil {
		return c.Message
	}
	return ""
}

func describe(s *capstanv1.Sync) string {
	var b strings.Builder
	fmt.Fprintf(&b, "applied=%s attempted=%s gen=%d observed=%d", s.Status.LastAppliedRevision, s.Status.LastAttemptedRevision, s.Generation, s.Status.ObservedGeneration)
	for _, c := range s.Status.Conditions {
		fmt.Fprintf(&b, "\n  %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

// get reads an object by kind, or returns nil when it does not exist.
func get(t *testing.T, gvk schema.GroupVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	err := env.admin.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, u)
	if err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil
		}
		t.Fatalf("getting %s %s/%s: %v", gvk.Kind, ns, name, err)
	}
	return u
}

var (
	configMapGVK  = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	deploymentGVK = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
)

// requestSync sets the sync-now annotation and returns its value.
func requestSync(t *testing.T, ns, name string) string {
	t.Helper()
	now := time.Now().Format(time.RFC3339Nano)
	s := &capstanv1.Sync{}
	if err := env.admin.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		t.Fatalf("getting sync: %v", err)
	}
	patch := client.MergeFrom(s.DeepCopy())
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[capstanv1.ReconcileRequestAnnotation] = now
	if err := env.admin.Patch(t.Context(), s, patch); err != nil {
		t.Fatalf("requesting sync: %v", err)
	}
	return now
}

func configMap(ns, name, value string, annotations ...string) string {
	ann := ""
	if len(annotations) == 2 {
		ann = fmt.Sprintf("\n  annotations:\n    %s: %q", annotations[0], annotations[1])
	}
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s%s\ndata:\n  value: %q\n", name, ns, ann, value)
}

func deployment(ns, name string, replicas int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[2]s
  namespace: %[1]s
spec:
  replicas: %[3]d
  selector:
    matchLabels: {app: %[2]s}
  template:
    metadata:
      labels: {app: %[2]s}
    spec:
      containers:
      - name: app
        image: nginx:1.27
`, ns, name, replicas)
}

func schemaGVK(group, version, kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: group, Version: version, Kind: kind}
}

func findCondition(s *capstanv1.Sync, typ string) *metav1.Condition {
	return apimeta.FindStatusCondition(s.Status.Conditions, typ)
}

func configMapValue(t *testing.T, ns, name string) string {
	t.Helper()
	cm := get(t, configMapGVK, ns, name)
	if cm == nil {
		return ""
	}
	v, _, _ := unstructured.NestedString(cm.Object, "data", "value")
	return v
}

// rawSync decodes a Sync written as JSON into an unstructured object, so that
// values the Go types cannot hold reach the API server's validation.
func rawSync(data []byte) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	_ = u.UnmarshalJSON(data)
	return u
}
