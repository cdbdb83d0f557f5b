package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// giteaStatus is one commit status as Gitea's API lists it.
type giteaStatus struct {
	State       string `json:"status"`
	Context     string `json:"context"`
	Description string `json:"description"`
}

// TestGiteaPushWebhookStatus uses a real Gitea server as the git host: the
// built controller syncs a private repository from it with a token, Gitea's
// own signed push webhook gets a new commit applied at once although the
// Sync polls only hourly, and the controller's commit statuses show up
// through Gitea's API on the commits it applied.
func TestGiteaPushWebhookStatus(t *testing.T) {
	t.Parallel()
	begin := time.Now()
	g := testenv.StartGitea(t)
	started := time.Since(begin)
	e := newControllerEnv(t)
	ctx, ns, name := t.Context(), manifests.Namespace, "gitea"
	var version struct{ Version string }
	if err := g.API(ctx, http.MethodGet, "/version", nil, &version); err != nil {
		t.Fatal(err)
	}
	t.Logf("gitea %s at %s, started in %s", version.Version, g.URL, started)

	repo := map[string]any{"name": "config", "private": true, "auto_init": true, "default_branch": "main", "readme": "Default"}
	if err := g.API(ctx, http.MethodPost, "/user/repos", repo, nil); err != nil {
		t.Fatal(err)
	}
	cm := func(v string) map[string]string {
		return map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-gitea\n  namespace: " + ns + "\ndata:\n  v: " + v + "\n"}
	}
	sha1 := giteaCommit(t, g, "config", cm("one"), "one")

	// The controller reads the repository and writes statuses with one
	// token of the least scope that allows both.
	token := g.AccessToken(t, "capstan", "write:repository")
	hookToken := []byte("e2e-" + strings.Repeat("g", 32))
	createHookedSync(t, e.admin, hookedSync{name: name, url: g.CloneURL("config"), user: g.User, password: token, hookToken: hookToken,
		notify: &capstanv1.Notify{Type: capstanv1.NotifyGitea, URL: g.URL}, statusToken: token})
	addr := freeAddr(t)
	_, logs := e.startController(t, "--webhook-bind-address", addr, "--log-level", "debug")
	s := waitSyncReady(t, e.admin, ns, name, "main@sha1:"+sha1, 90*time.Second)
	if want := capstanv1.WebhookPath(string(hookToken), name, ns); s.Status.WebhookPath != want {
		t.Fatalf("status.webhookPath = %q, want %q", s.Status.WebhookPath, want)
	}
	waitGiteaStatus(t, g, sha1, capstanNotifyContext(ns, name))

	hook := map[string]any{"type": "gitea", "active": true, "events": []string{"push"}, "branch_filter": "*",
		"config": map[string]string{"url": "http://" + addr + s.Status.WebhookPath, "content_type": "json", "secret": string(hookToken)}}
	if err := g.API(ctx, http.MethodPost, "/repos/"+g.User+"/config/hooks", hook, nil); err != nil {
		t.Fatal(err)
	}

	sha2 := giteaCommit(t, g, "config", cm("two"), "two")
	pushed := time.Now()
	waitSyncReady(t, e.admin, ns, name, "main@sha1:"+sha2, 60*time.Second)
	took := time.Since(pushed)
	// The Sync lists its source hourly, so only Gitea's webhook can have
	// brought the commit in: the figure is logged, and asserted only
	// generously, as a loaded machine is slow.
	t.Logf("push to gitea to applied: %s", took)
	if took >= 30*time.Second {
		t.Errorf("push applied after %s: not by the webhook", took)
	}
	if !loggedGiteaDelivery(logs.String()) {
		t.Errorf("the controller logged no webhook delivery from gitea")
	}
	got := &corev1.ConfigMap{}
	if err := e.admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: "from-gitea"}, got); err != nil || got.Data["v"] != "two" {
		t.Errorf("configmap from-gitea = %v (%v), want v: two", got.Data, err)
	}
	st := waitGiteaStatus(t, g, sha2, capstanNotifyContext(ns, name))
	t.Logf("gitea status on %s: %s %q, %s after the push", sha2[:8], st.State, st.Description, time.Since(pushed))
}

// loggedGiteaDelivery reports whether the controller's debug log holds a
// sync requested by a webhook that it took for Gitea's.
func loggedGiteaDelivery(logs string) bool {
	for line := range strings.Lines(logs) {
		if strings.Contains(line, "sync requested by webhook") &&
			(strings.Contains(line, `"sender": "gitea"`) || strings.Contains(line, "sender=gitea")) {
			return true
		}
	}
	return false
}

// capstanNotifyContext is the commit status context of a Sync as the
// documentation gives it, written out rather than taken from the code.
func capstanNotifyContext(ns, name string) string { return "capstan/" + ns + "/" + name }

// giteaCommit clones g's repository repo over HTTP, commits files on main
// and pushes, as a person would, and returns the new commit.
func giteaCommit(t *testing.T, g *testenv.Gitea, repo string, files map[string]string, message string) string {
	t.Helper()
	dir := t.TempDir()
	auth := &githttp.BasicAuth{Username: g.User, Password: g.Token}
	r, err := gogit.PlainCloneContext(t.Context(), dir, false, &gogit.CloneOptions{URL: g.CloneURL(repo), Auth: auth,
		ReferenceName: plumbing.NewBranchReferenceName("main"), SingleBranch: true})
	if err != nil {
		t.Fatalf("cloning %s: %v", g.CloneURL(repo), err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for p, content := range files {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	sig := &object.Signature{Name: "Capstan Test", Email: "test@capstan.invalid", When: time.Now()}
	h, err := wt.Commit(message, &gogit.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.PushContext(t.Context(), &gogit.PushOptions{Auth: auth}); err != nil {
		t.Fatalf("pushing to %s: %v", g.CloneURL(repo), err)
	}
	return h.String()
}

// waitGiteaStatus waits until Gitea lists a success status with context ctxName
// on sha, and returns it; it fails the test on a failure status.
func waitGiteaStatus(t *testing.T, g *testenv.Gitea, sha, ctxName string) giteaStatus {
	t.Helper()
	var found giteaStatus
	var seen []string
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		var list []giteaStatus
		if err := g.API(ctx, http.MethodGet, "/repos/"+g.User+"/config/commits/"+sha+"/statuses", nil, &list); err != nil {
			return false, err
		}
		seen = seen[:0]
		for _, s := range list {
			seen = append(seen, s.Context+"="+s.State)
			if s.Context != ctxName {
				continue
			}
			switch s.State {
			case "success":
				found = s
				return true, nil
			case "failure", "error":
				t.Fatalf("gitea status %s on %s: %s %q", ctxName, sha[:8], s.State, s.Description)
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no success status %s on %s in gitea: %v (statuses: %v)", ctxName, sha[:8], err, seen)
	}
	return found
}
