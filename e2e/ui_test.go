package e2e

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/components/repo"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// TestUIInABrowser bootstraps examples/dwk (plus two Syncs of a shop app)
// and drives `capstan ui` in headless Chromium: every Sync Ready, the tree
// of the example, a pushed image that never becomes ready turning the
// Deployment unhealthy without a reload, sync now after the fix, suspend
// and resume, and requests the UI refuses. Screenshots of the overview,
// the trees and the diff are kept as artifacts.
func TestUIInABrowser(t *testing.T) {
	ctx := browser(t)
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "dwk")
	files := exampleFiles(t, "dwk")
	for k, v := range shopFiles(srv, "nginx:1.27") {
		files[k] = v
	}
	srv.Commit(t, "dwk", "main", files, "the course cluster and a shop")
	f := &fleet{srv: srv, repo: "dwk"}
	cluster := testenv.StartCluster(t, testenv.ClusterOptions{Stages: []string{neverReadyStage(neverReadyImage)}})
	d := &day2{f: f, cluster: cluster, admin: adminClient(t, cluster)}
	done := make(chan struct{})
	go func() { defer close(done); d.superviseController(t.Context(), t) }()
	t.Cleanup(func() { <-done })
	mustSucceed(t, "bootstrap", capstan(t, f.env(), "bootstrap", "--url", srv.HTTPURL("dwk"), "--path", "clusters/dwk",
		"--kubeconfig", cluster.Kubeconfig, "--username", srv.Username(), "--timeout", "3m"))
	rev := "main@sha1:" + f.head(t)
	for _, name := range []string{"shop-db", "shop"} {
		waitSyncReady(t, d.admin, manifests.Namespace, name, rev, 2*time.Minute)
	}
	ui, link := d.startUI(t)
	base := link[:strings.Index(link, "/?token=")]

	// The overview: every Sync Ready, with its dependency graph.
	run(t, ctx, chromedp.Navigate(link))
	waitJS(t, ctx, "three Syncs, all Ready", `(() => { const r = [...document.querySelectorAll("tr[data-state]")];
		return r.length === 3 && r.every(x => x.dataset.state === "Ready") })()`, time.Minute)
	waitJS(t, ctx, "the live stream", `document.getElementById("conn").textContent.includes("live")`, 30*time.Second)
	waitJS(t, ctx, "the dependency graph", `!!document.getElementById("graph-shop")`, 10*time.Second)
	screenshot(t, ctx, "overview")

	// The tree of examples/dwk: namespaces, workloads, their Pods.
	run(t, ctx, chromedp.Navigate(base+"/syncs/"+manifests.Namespace+"/"+repo.RootSyncName))
	for _, sel := range []string{`#ns-web`, `#ns-todo`, `#ns-web li[data-kind="Deployment"][data-name="web"]`,
		`#ns-web li[data-kind="Deployment"] li[data-kind="ReplicaSet"] li[data-kind="Pod"][data-health="Healthy"]`,
		`li[data-kind="Backup"][data-name="nightly"]`, `li[data-kind="Ingress"]`} {
		waitJS(t, ctx, sel, `!!document.querySelector(`+jsString(sel)+`)`, 30*time.Second)
	}
	screenshot(t, ctx, "tree")

	// A push of an image that never becomes ready, then sync now: the
	// Deployment turns unhealthy on the open page, with its reason.
	shop := base + "/syncs/" + manifests.Namespace + "/shop"
	srv.Commit(t, "dwk", "main", map[string]string{"apps/shop/deployment.yaml": shopDeployment(neverReadyImage)}, "shop: a new image")
	clickAction(t, ctx, shop, "reconcile")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.capstanMarker = 1`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the shop Deployment unhealthy by ImagePullBackOff, without a reload",
		`window.capstanMarker === 1 && Number(document.getElementById("live").dataset.refreshed) > 0 &&
		 !!document.querySelector('li[data-kind="Deployment"][data-name="shop"][data-health="Degraded"] li[data-kind="Pod"][data-health="Degraded"] .reason') &&
		 document.querySelector('li[data-kind="Deployment"][data-name="shop"] > .obj .reason').textContent === "ImagePullBackOff"`, 2*time.Minute)
	screenshot(t, ctx, "tree-unhealthy")

	// The fix, its diff, and sync now: Ready at the new commit.
	fix := srv.Commit(t, "dwk", "main", map[string]string{"apps/shop/deployment.yaml": shopDeployment("nginx:1.27")}, "shop: back to nginx")
	run(t, ctx, chromedp.Navigate(shop+"/diff"))
	waitJS(t, ctx, "the diff of the fix", `(() => { const lines = document.body.innerText.split("\n");
		return document.body.innerText.includes("Deployment/shop/shop") &&
			lines.some(l => l.startsWith("+") && l.endsWith("image: nginx:1.27")) &&
			lines.some(l => l.startsWith("-") && l.endsWith("image: `+neverReadyImage+`")) })()`, time.Minute)
	page := outerHTML(t, ctx)
	if strings.Contains(page, shopSecret) {
		t.Error("the diff page holds the shop's Secret value")
	}
	screenshot(t, ctx, "diff")
	clickAction(t, ctx, shop, "reconcile")
	waitJS(t, ctx, "shop Ready at the fix", `document.getElementById("sync").dataset.state === "Ready" &&
		document.getElementById("sync").dataset.revision.endsWith(`+jsString(fix)+`)`, 2*time.Minute)

	// Suspend and resume.
	clickAction(t, ctx, shop, "suspend")
	waitJS(t, ctx, "shop Suspended", `document.getElementById("sync").dataset.state === "Suspended"`, 30*time.Second)
	if s := d.sync(t, "shop"); !s.Spec.Suspend {
		t.Error("the Sync is not suspended after the UI's suspend")
	}
	clickAction(t, ctx, shop, "resume")
	waitJS(t, ctx, "shop Ready after resume, its request handled", `document.getElementById("sync").dataset.state === "Ready" && !document.getElementById("pending")`, time.Minute)
	if s := d.sync(t, "shop"); s.Spec.Suspend || s.Status.LastHandledReconcileAt != s.Annotations[capstanv1.ReconcileRequestAnnotation] {
		t.Errorf("after resume: suspend %v, request %q handled %q", s.Spec.Suspend, s.Annotations[capstanv1.ReconcileRequestAnnotation], s.Status.LastHandledReconcileAt)
	}
	page = outerHTML(t, ctx)
	if strings.Contains(page, shopSecret) {
		t.Error("the Sync page holds the shop's Secret value")
	}
	refusedRequests(t, base, link)
	ui.interrupt(t) // Ctrl-C: a clean exit
}

// clickAction opens the Sync page, clicks the action's button and confirms.
func clickAction(t *testing.T, ctx context.Context, page, action string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(page))
	// The page's live part may be replaced at any moment: the button is
	// clicked by a script that finds it at that moment.
	waitJS(t, ctx, "the "+action+" button", `!!document.getElementById(`+jsString(action)+`)`, 30*time.Second)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById(`+jsString(action)+`).click(), true`)); err != nil {
		t.Fatalf("clicking %s: %v", action, err)
	}
	waitJS(t, ctx, "the confirmation of "+action, `!!document.getElementById("confirm")`, 30*time.Second)
	run(t, ctx, chromedp.Click(chromedp.CSS("#confirm")))
	waitJS(t, ctx, "the Sync page after "+action, `location.search === "?done=`+action+`" && !!document.getElementById("sync")`, time.Minute)
}

// refusedRequests checks, outside the browser, what the UI refuses.
func refusedRequests(t *testing.T, base, link string) {
	t.Helper()
	token := link[strings.Index(link, "token=")+len("token="):]
	cookie := &http.Cookie{Name: "capstan_session", Value: token}
	host := strings.TrimPrefix(base, "http://")
	tests := []struct {
		name   string
		method string
		host   string
		cookie bool
		code   int
	}{
		{"no token", "GET", host, false, http.StatusUnauthorized},
		{"foreign Host", "GET", "rebound.example:" + host[strings.LastIndex(host, ":")+1:], true, http.StatusMisdirectedRequest},
		{"POST without CSRF token", "POST", host, true, http.StatusForbidden},
	}
	for _, tt := range tests {
		req, err := http.NewRequestWithContext(t.Context(), tt.method, base+"/syncs/"+manifests.Namespace+"/shop/suspend", strings.NewReader(url.Values{"x": {"1"}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		if tt.method == "GET" {
			req.URL.Path = "/"
		}
		req.Host = tt.host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tt.cookie {
			req.AddCookie(cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code {
			t.Errorf("%s: status %d, want %d: %s", tt.name, resp.StatusCode, tt.code, body)
		}
	}
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

func outerHTML(t *testing.T, ctx context.Context) string {
	t.Helper()
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		t.Fatal(err)
	}
	return html
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
