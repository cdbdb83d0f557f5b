package ui

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
	"github.com/capstan-gitops/capstan/internal/source"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// Secret values of the test world: none may reach the browser.
const (
	gitSecretValue     = "git-declared-secret-value"
	clusterSecretValue = "cluster-secret-value"
)

// world is a real control plane and git server holding two Syncs, "base"
// and "app" (app depends on base), whose objects are in the cluster, one
// ConfigMap drifted from git and one Secret whose value differs.
type world struct {
	c        *kubeclient.Client
	ns       string
	git      *testenv.GitServer
	revision string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	cluster := testenv.StartCluster(t, testenv.ClusterOptions{})
	c, err := kubeclient.ConnectConfig(t.Context(), cluster.Config, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.InstallComponents(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	w := &world{c: c, ns: cluster.Namespace(t), git: testenv.NewGitServer(t)}
	w.git.InitRepo(t, "app")
	w.revision = "main@sha1:" + w.git.Commit(t, "app", "main", map[string]string{
		"app/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: " + w.ns + "\ndata:\n  greeting: hello\n",
		"app/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: " + w.ns + "\nstringData:\n  password: " + gitSecretValue + "\n",
		"app/web.yaml":    deploymentYAML(w.ns, "nginx:1.27"),
	}, "the app")
	labels := map[string]string{capstanv1.SyncNameLabel: "app", capstanv1.SyncNamespaceLabel: w.ns}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: w.ns, Labels: labels}
	}
	one := int32(1)
	objs := []client.Object{
		&corev1.ConfigMap{ObjectMeta: meta("cfg"), Data: map[string]string{"greeting": "drifted"}},
		&corev1.Secret{ObjectMeta: meta("creds"), Data: map[string][]byte{"password": []byte(clusterSecretValue)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "git", Namespace: w.ns},
			Data: map[string][]byte{"username": []byte(w.git.Username()), "password": []byte(w.git.Password())}},
		&appsv1.Deployment{ObjectMeta: meta("web"), Spec: appsv1.DeploymentSpec{Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}}}}},
	}
	for _, o := range objs {
		if err := c.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	w.sync(t, "base", nil, nil)
	w.sync(t, "app", []string{"base"}, []capstanv1.InventoryEntry{
		{Kind: "ConfigMap", Namespace: w.ns, Name: "cfg", Version: "v1"},
		{Kind: "Secret", Namespace: w.ns, Name: "creds", Version: "v1"},
		{Group: "apps", Kind: "Deployment", Namespace: w.ns, Name: "web", Version: "v1"},
	})
	return w
}

func deploymentYAML(ns, image string) string {
	return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: " + ns + "\nspec:\n  replicas: 1\n" +
		"  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n" +
		"    spec:\n      containers:\n      - name: web\n        image: " + image + "\n"
}

// sync creates a Sync that looks reconciled: Ready at w.revision with inventory.
func (w *world) sync(t testing.TB, name string, deps []string, inv []capstanv1.InventoryEntry) {
	t.Helper()
	s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.ns}, Spec: capstanv1.SyncSpec{
		URL: w.git.HTTPURL("app"), Path: "app", Interval: metav1.Duration{Duration: time.Hour},
		SecretRef: &capstanv1.LocalObjectReference{Name: "git"},
	}}
	for _, d := range deps {
		s.Spec.DependsOn = append(s.Spec.DependsOn, capstanv1.LocalObjectReference{Name: d})
	}
	if err := w.c.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	s.Status = capstanv1.SyncStatus{ObservedGeneration: s.Generation, LastAppliedRevision: w.revision, LastAttemptedRevision: w.revision,
		Inventory: &capstanv1.Inventory{Entries: inv},
		LastRun:   &capstanv1.RunStats{Created: len(inv), Duration: metav1.Duration{Duration: 1200 * time.Millisecond}, FinishedAt: metav1.Now()},
		Conditions: []metav1.Condition{{Type: capstanv1.ReadyCondition, Status: metav1.ConditionTrue, Reason: capstanv1.SucceededReason,
			Message: "Applied revision " + w.revision, LastTransitionTime: metav1.Now(), ObservedGeneration: s.Generation}}}
	if err := w.c.Status().Update(t.Context(), s); err != nil {
		t.Fatal(err)
	}
}

// served is a running UI and a browser-like client without its cookie.
type served struct {
	srv    *Server
	url    string // http://127.0.0.1:port
	client *http.Client
}

func (w *world) serve(t testing.TB, opts Options) *served {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fetcher, err := source.NewGitFetcher(w.c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	opts.Namespace = w.ns
	cached, err := SyncCache(t.Context(), w.c.Config, w.c.Scheme(), w.ns)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(w.c, cached, opts, ln.Addr().String(), fetcher)
	if err != nil {
		t.Fatal(err)
	}
	// No beat within a test: a "change" event then comes of a change only.
	srv.beat = time.Hour
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &served{srv: srv, url: hs.URL, client: &http.Client{CheckRedirect: noRedirect, Timeout: time.Minute}}
}

// do sends a request with the session cookie (unless cookie is false) and
// returns the answer with its body read.
func (s *served) do(t testing.TB, method, path string, form string, cookie bool, edit func(*http.Request)) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: s.srv.guard.token})
	}
	if edit != nil {
		edit(req)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, b.String()
}
