package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/capstan-gitops/capstan/components/repo"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// neverReadyImage is an image whose pods never start: a kwok stage keeps
// them Pending in ImagePullBackOff, as a missing image would.
const neverReadyImage = "registry.invalid/shop:does-not-exist"

// neverReadyStage is a kwok pod stage under which pods running image wait
// in ImagePullBackOff.
func neverReadyStage(image string) string {
	return testenv.FaultStage("capstan-e2e-image-pull-backoff", image, testenv.ImagePullBackOff)
}

// shopFiles are two Syncs beside examples/dwk: shop-db, and shop, which
// depends on it and whose Deployment the test breaks and fixes.
func shopFiles(srv *testenv.GitServer, image string) map[string]string {
	sync := func(name, path, extra string) string {
		return "apiVersion: capstan.dev/v1\nkind: Sync\nmetadata:\n  name: " + name + "\n  namespace: capstan-system\nspec:\n" +
			"  url: " + srv.HTTPURL("dwk") + "\n  path: " + path + "\n  interval: 1h\n  timeout: 15s\n  secretRef:\n    name: " +
			repo.CredentialsSecret + "\n" + extra
	}
	return map[string]string{
		"clusters/dwk/shop.yaml": sync("shop-db", "apps/shop-db", "") + "---\n" + sync("shop", "apps/shop", "  dependsOn:\n  - name: shop-db\n"),
		"apps/shop-db/db.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\n" +
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-db\n  namespace: shop\ndata:\n  url: postgres://db.shop:5432/shop\n",
		"apps/shop/deployment.yaml": shopDeployment(image),
		"apps/shop/secret.yaml":     "apiVersion: v1\nkind: Secret\nmetadata:\n  name: shop-api\n  namespace: shop\nstringData:\n  key: " + shopSecret + "\n",
	}
}

// shopSecret must never reach the browser.
const shopSecret = "shop-api-key-never-shown"

func shopDeployment(image string) string {
	return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\n  namespace: shop\nspec:\n  replicas: 2\n" +
		"  selector:\n    matchLabels: {app: shop}\n  template:\n    metadata:\n      labels: {app: shop}\n" +
		"    spec:\n      containers:\n      - name: shop\n        image: " + image + "\n"
}

// startUI runs `capstan ui` and returns the URL it printed; the test ends
// it with interrupt (the test's end kills it otherwise).
func (d *day2) startUI(t *testing.T, args ...string) (*background, string) {
	t.Helper()
	b := d.start(t, append([]string{"ui"}, args...)...)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(b.stdout()))
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "capstan ui: "); ok {
				return b, u
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("capstan ui printed no URL:\n%s", b.stdout())
	return nil, ""
}

// browser starts headless Chromium, or skips the test where none can start.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("CAPSTAN_CHROMIUM")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		t.Skip("no chromium found (hack/setup.sh installs Debian's chromium; CAPSTAN_CHROMIUM names another)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1360, 900), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // the first run starts it, with no timeout of its own
		t.Skipf("chromium %s cannot start here: %v", path, err)
	}
	return ctx
}

// artifacts is where the test keeps its screenshots: $CAPSTAN_ARTIFACTS/ui,
// or a directory under the system's temporary one.
func artifacts(t *testing.T) string {
	t.Helper()
	root := os.Getenv("CAPSTAN_ARTIFACTS")
	if root == "" {
		root = filepath.Join(os.TempDir(), "capstan-artifacts")
	}
	dir := filepath.Join(root, "ui")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot saves the whole page as name.png in the artifacts.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// waitJS waits until the JavaScript expression cond is true in the page.
func waitJS(t *testing.T, ctx context.Context, what, cond string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("live") ? document.getElementById("live").innerText : document.body.innerText`))
			t.Fatalf("waiting for %s (%s): %v\npage:\n%s", what, cond, err, tail(html, 6000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
