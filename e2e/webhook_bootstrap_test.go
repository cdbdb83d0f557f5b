package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/components/repo"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// printedField returns the value after "  name:" in bootstrap's output.
func printedField(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// fileContaining names a file of commit sha in the fleet repository that
// contains s, or returns "".
func fileContaining(t *testing.T, f *fleet, sha, s string) string {
	t.Helper()
	r, err := gogit.PlainOpen(f.srv.RepoDir(f.repo))
	if err != nil {
		t.Fatal(err)
	}
	commit, err := r.CommitObject(plumbing.NewHash(sha))
	if err != nil {
		t.Fatal(err)
	}
	files, err := commit.Files()
	if err != nil {
		t.Fatal(err)
	}
	found := ""
	err = files.ForEach(func(file *object.File) error {
		content, err := file.Contents()
		if err == nil && strings.Contains(content, s) {
			found = file.Name
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestBootstrapWebhook bootstraps with --webhook through the built binary:
// the token is printed once and kept only in the cluster, the committed
// root Sync names its Secret, and a signed GitHub push to the printed path
// makes the controller sync the new commit. Bootstrapping again (with or
// without the flag) commits nothing and prints no other token.
func TestBootstrapWebhook(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	cluster := testenv.StartCluster(t, testenv.ClusterOptions{})
	tg := &target{cluster: cluster, admin: adminClient(t, cluster)}
	addr := freeAddr(t)
	go tg.runControllerWhenInstalled(t, "--webhook-bind-address", addr)

	r := capstan(t, f.env(), f.bootstrapArgs(cluster.Kubeconfig, "--webhook")...)
	mustSucceed(t, "bootstrap --webhook", r)
	path, token := printedField(r.stdout, "path"), printedField(r.stdout, "secret")
	if ct := printedField(r.stdout, "content type"); ct != "application/json" {
		t.Errorf("printed content type %q, want application/json", ct)
	}
	if len(token) != 64 || strings.Contains(r.stderr, token) {
		t.Fatalf("printed token %q: want 64 hex characters on stdout only", token)
	}
	if want := capstanv1.WebhookPath(token, repo.RootSyncName, manifests.Namespace); path != want {
		t.Fatalf("printed path %q, want %q", path, want)
	}
	root := tg.rootSync(t)
	if root.Spec.Webhook == nil || root.Spec.Webhook.SecretRef.Name != repo.WebhookSecret || root.Status.WebhookPath != path {
		t.Fatalf("root Sync webhook %+v, status.webhookPath %q; want Secret %s and path %s", root.Spec.Webhook, root.Status.WebhookPath, repo.WebhookSecret, path)
	}
	pushed := f.head(t)
	if file := fileContaining(t, f, pushed, token); file != "" {
		t.Fatalf("the webhook token is in git, in %s", file)
	}

	// A signed push: the receiver requests a sync of the root Sync.
	requested := root.Annotations[capstanv1.ReconcileRequestAnnotation]
	sha := f.srv.Commit(t, "fleet", "main", map[string]string{
		"clusters/e2e/apps/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: web\ndata:\n  greeting: pushed\n",
	}, "push through the webhook")
	h := hookSender{t: t, url: "http://" + addr + path, token: []byte(token)}
	start := time.Now()
	if code := h.postGitHub("push", githubPush("refs/heads/main", pushed, sha, f.srv.HTTPURL("fleet")), []byte(token)); code != http.StatusAccepted {
		t.Fatalf("signed push: status %d, want 202", code)
	}
	s := &capstanv1.Sync{}
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		err := tg.admin.Get(ctx, client.ObjectKey{Namespace: manifests.Namespace, Name: repo.RootSyncName}, s)
		return err == nil && s.Status.LastAppliedRevision == "main@sha1:"+sha, nil
	})
	if err != nil {
		t.Fatalf("the root Sync did not apply the pushed commit: %s", s.Status.LastAppliedRevision)
	}
	t.Logf("signed push to applied: %s", time.Since(start).Round(time.Millisecond))
	if s.Annotations[capstanv1.ReconcileRequestAnnotation] == requested {
		t.Error("the push was applied without a sync request from the receiver")
	}
	if cm := tg.configMap(t, "web", "web-config"); cm == nil || cm.Data["greeting"] != "pushed" {
		t.Errorf("the pushed app was not applied: %+v", cm)
	}

	// Again, with and without the flag: no commit, the same path, no token.
	for _, extra := range [][]string{{"--webhook"}, nil} {
		r = capstan(t, f.env(), f.bootstrapArgs(cluster.Kubeconfig, extra...)...)
		mustSucceed(t, "bootstrap again", r)
		if head := f.head(t); head != sha {
			t.Errorf("bootstrap %v again made a commit (%s, want %s)", extra, head, sha)
		}
		if strings.Contains(r.stdout+r.stderr, token) || !strings.Contains(printedField(r.stdout, "secret"), "unchanged") {
			t.Errorf("bootstrap %v again printed a token:\n%s", extra, r.stdout)
		}
		if got := printedField(r.stdout, "path"); got != path {
			t.Errorf("bootstrap %v again printed path %q, want %q", extra, got, path)
		}
	}
}
