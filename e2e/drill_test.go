package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/capstan-gitops/capstan/components/repo"

	"github.com/capstan-gitops/capstan/clusters/kwok"
	"github.com/capstan-gitops/capstan/drill"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// drillRepo serves examples/dwk, changed by edit (a nil value deletes a
// file; {{URL}} in a value is the repository's URL), on a git server of its
// own; bootstrapped adds the capstan-system directory that `capstan
// bootstrap` commits.
type drillRepo struct {
	srv  *testenv.GitServer
	head string
}

func newDrillRepo(t *testing.T, bootstrapped bool, edit map[string]*string) *drillRepo {
	t.Helper()
	return newDrillRepoWith(t, bootstrapped, false, edit)
}

// newDrillRepoWith is newDrillRepo whose bootstrap, with decryption, also
// gives the root Sync spec.decryption, as bootstrap --age-key-file does.
func newDrillRepoWith(t *testing.T, bootstrapped, decryption bool, edit map[string]*string) *drillRepo {
	t.Helper()
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "dwk")
	files := exampleFiles(t, "dwk")
	if bootstrapped {
		rendered, err := repo.RenderFiles(repo.Input{
			URL: srv.HTTPURL("dwk"), Branch: "main", Path: "clusters/dwk", HasCredentials: true, HasDecryption: decryption,
			Settings: repo.Settings{Version: "v0.0.0-e2e", LogLevel: "info", Interval: time.Minute},
		})
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range rendered {
			files[name] = string(data)
		}
	}
	for name, content := range edit {
		if content == nil {
			delete(files, name)
			continue
		}
		files[name] = strings.ReplaceAll(*content, "{{URL}}", srv.HTTPURL("dwk"))
	}
	head := srv.Commit(t, "dwk", "main", files, "the course cluster")
	return &drillRepo{srv: srv, head: head}
}

// drill runs `capstan drill` against the repository with a state directory
// of its own, and checks that the throwaway cluster is gone afterwards.
func (r *drillRepo) drill(t *testing.T, args ...string) result {
	t.Helper()
	return r.drillEnv(t, nil, args...)
}

// drillEnv is drill with more environment variables.
func (r *drillRepo) drillEnv(t *testing.T, extra []string, args ...string) result {
	t.Helper()
	cache := t.TempDir()
	env := append([]string{
		"CAPSTAN_GIT_PASSWORD=" + r.srv.Password(), "NO_COLOR=1",
		"CAPSTAN_CACHE=" + cache, "CAPSTAN_KUBE_BIN=" + kwok.BinDir(),
	}, extra...)
	args = append([]string{"drill", "--url", r.srv.HTTPURL("dwk"), "--username", r.srv.Username()}, args...)
	start := time.Now()
	res := capstan(t, env, args...)
	t.Logf("capstan %s: exit %d after %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args[5:], " "), res.code, time.Since(start).Round(time.Millisecond), res.stdout, res.stderr)
	assertNoClusterLeft(t, cache, res.stderr)
	if strings.Contains(res.stdout+res.stderr, r.srv.Password()) {
		t.Error("the drill's output contains the git password")
	}
	if got := r.srv.BranchHead(t, "dwk", "main"); got != r.head {
		t.Errorf("the drill changed the branch: %s, want %s", got, r.head)
	}
	return res
}

// drillClusterName finds the throwaway cluster's name in the progress lines.
var drillClusterName = regexp.MustCompile(`kwok-(drill-[0-9a-f]{8})`)

// assertNoClusterLeft checks that the drill left no state under the cache
// and no process of its cluster running.
func assertNoClusterLeft(t *testing.T, cache, stderr string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(cache, "kwok"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("the drill left %s in its state directory", e.Name())
	}
	m := drillClusterName.FindStringSubmatch(stderr)
	if m == nil {
		return // no cluster was created
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(cmdline), m[1]) {
			t.Errorf("a process of the throwaway cluster %s still runs: %s", m[1], strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
}

func decodeReport(t *testing.T, stdout string) drill.Report {
	t.Helper()
	var rep drill.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("decoding the json report: %v\n%s", err, stdout)
	}
	return rep
}

func TestDrillRebuildsBootstrappedRepo(t *testing.T) {
	t.Parallel()
	repo := newDrillRepo(t, true, nil)
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		res := repo.drill(t, "--path", "clusters/dwk", "-o", "json")
		mustSucceed(t, "drill", res)
		rep := decodeReport(t, res.stdout)
		if !rep.OK || len(rep.Problems) != 0 || rep.TimedOut {
			t.Errorf("report: ok=%t timedOut=%t problems=%+v", rep.OK, rep.TimedOut, rep.Problems)
		}
		if !rep.Components.FromGit || rep.Components.Source != "clusters/dwk/capstan-system" || rep.Components.Version != "v0.0.0-e2e" {
			t.Errorf("components = %+v, want those committed in clusters/dwk/capstan-system", rep.Components)
		}
		if len(rep.Syncs) == 0 {
			t.Fatal("the report lists no Sync")
		}
		for _, s := range rep.Syncs {
			if s.State != drill.StateReady || s.Revision != "main@sha1:"+repo.head || s.Objects == 0 || s.ReadySeconds <= 0 {
				t.Errorf("Sync %s: %+v, want Ready at main@sha1:%s with objects and a time", s.Key(), s, repo.head)
			}
		}
		if rep.ConvergeSeconds <= 0 || rep.TotalSeconds < rep.ConvergeSeconds {
			t.Errorf("times: converge %.1fs, total %.1fs", rep.ConvergeSeconds, rep.TotalSeconds)
		}
	})
	t.Run("text with the path found", func(t *testing.T) {
		t.Parallel()
		res := repo.drill(t)
		mustSucceed(t, "drill", res)
		for _, want := range []string{
			"path clusters/dwk", "Components: clusters/dwk/capstan-system from git",
			"capstan-system/capstan-system  Ready", "Problems: none", "✓ The repository rebuilt a Ready cluster",
		} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("report lacks %q:\n%s", want, res.stdout)
			}
		}
		for _, step := range []string{"Repository", "Cluster", "Install", "Controller", "Converge", "Diagnose", "Cleanup"} {
			if !strings.Contains(res.stderr, "✓ "+step) {
				t.Errorf("progress lacks ✓ %s", step)
			}
		}
	})
}

// childSync is a Sync of this repository that the root Sync applies.
func childSync(name, path string) *string {
	return drillFile("apiVersion: capstan.dev/v1\nkind: Sync\nmetadata:\n  name: " + name + "\n  namespace: capstan-system\nspec:\n  url: {{URL}}\n" +
		"  ref:\n    branch: main\n  path: " + path + "\n  interval: 1m\n  secretRef:\n    name: capstan-git\n")
}

func TestDrillRebuildsChildSyncs(t *testing.T) {
	t.Parallel()
	// The app's namespace comes from another child Sync: whichever applies
	// first, the drill must end with every Sync Ready.
	repo := newDrillRepo(t, true, map[string]*string{
		"clusters/dwk/syncs/infra.yaml": childSync("infra", "apps/infra"),
		"clusters/dwk/syncs/late.yaml":  childSync("late", "apps/late"),
		"apps/infra/namespace.yaml":     drillFile("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: late\n"),
		"apps/late/config.yaml":         drillFile("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late\n  namespace: late\ndata:\n  a: b\n"),
	})
	res := repo.drill(t, "--path", "clusters/dwk", "-o", "json")
	mustSucceed(t, "drill with child Syncs", res)
	rep := decodeReport(t, res.stdout)
	got := map[string]drill.SyncResult{}
	for _, s := range rep.Syncs {
		got[s.Key()] = s
	}
	for key, objects := range map[string]int{"capstan-system/capstan-system": 20, "capstan-system/infra": 1, "capstan-system/late": 1} {
		s, ok := got[key]
		if !ok || s.State != drill.StateReady || s.Objects < objects || s.Revision != "main@sha1:"+repo.head {
			t.Errorf("Sync %s = %+v, want Ready at the head with at least %d objects", key, s, objects)
		}
	}
	if len(rep.Syncs) != 3 || !rep.OK || len(rep.Problems) != 0 {
		t.Errorf("report: %d Syncs, ok=%t, problems %+v", len(rep.Syncs), rep.OK, rep.Problems)
	}
}

func TestDrillFallsBackToTheCLIComponents(t *testing.T) {
	t.Parallel()
	repo := newDrillRepo(t, false, nil)
	res := repo.drill(t, "--path", "clusters/dwk")
	mustSucceed(t, "drill of a repository never bootstrapped", res)
	for _, want := range []string{
		"Components: this CLI's", "the repository has no clusters/dwk/capstan-system",
		"capstan-system/capstan-system  Ready", "✓ The repository rebuilt a Ready cluster",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, res.stdout)
		}
	}
	if !strings.Contains(res.stderr, "this CLI's components: the repository has no clusters/dwk/capstan-system") {
		t.Errorf("the Install step does not say where the components came from:\n%s", res.stderr)
	}
}

func drillFile(s string) *string { return &s }

func TestDrillReportsBrokenRepos(t *testing.T) {
	t.Parallel()
	t.Run("a CR without its CRD and a namespace nobody creates", func(t *testing.T) {
		t.Parallel()
		repo := newDrillRepo(t, true, map[string]*string{
			"clusters/dwk/backups/crd.yaml": nil,
			"clusters/dwk/web/ghost.yaml":   drillFile("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: haunted\n  namespace: ghost\n"),
		})
		res := repo.drill(t, "--path", "clusters/dwk")
		assertFailed(t, res)
		for _, want := range []string{
			"missing-crd Backup web/nightly (clusters/dwk/backups/nightly.yaml:1)",
			"no CustomResourceDefinition in git defines Backup in dwk.example.com/v1",
			"missing-namespace ConfigMap ghost/haunted (clusters/dwk/web/ghost.yaml:1)",
			"sync-failed Sync capstan-system/capstan-system", "ApplyFailed",
		} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("report lacks %q:\n%s", want, res.stdout)
			}
		}
		if strings.Contains(res.stdout, "unhealthy Backup") {
			t.Errorf("a resource that was never created is reported unhealthy:\n%s", res.stdout)
		}
	})
	t.Run("a workload needs Secrets nobody creates", func(t *testing.T) {
		t.Parallel()
		repo := newDrillRepo(t, true, map[string]*string{"clusters/dwk/web/api.yaml": drillFile(apiNeedingSecrets)})
		res := repo.drill(t, "--path", "clusters/dwk", "-o", "json")
		assertFailed(t, res)
		rep := decodeReport(t, res.stdout)
		for _, s := range rep.Syncs {
			if s.State != drill.StateReady {
				t.Errorf("Sync %s is %s: the Secrets alone must not keep it from Ready in a simulated cluster", s.Key(), s.State)
			}
		}
		found := map[string]string{}
		for _, p := range rep.Problems {
			found[p.Kind] = p.Object + " " + p.File + ": " + p.Message
		}
		if got := found[drill.ProblemMissingSecret]; !strings.Contains(got, "Deployment web/api clusters/dwk/web/api.yaml") || !strings.Contains(got, "Secret web/api-db") {
			t.Errorf("missing Secret reported as %q; problems: %+v", got, rep.Problems)
		}
		if got := found[drill.ProblemMissingPullSecret]; !strings.Contains(got, "Secret web/regcred") {
			t.Errorf("missing image pull Secret reported as %q", got)
		}
		if rep.OK || len(rep.Problems) != 2 {
			t.Errorf("ok=%t with %d problems, want false with 2", rep.OK, len(rep.Problems))
		}
	})
	t.Run("a health check that never passes", func(t *testing.T) {
		t.Parallel()
		repo := newDrillRepo(t, true, map[string]*string{"clusters/dwk/web/worker.yaml": drillFile(unschedulableWorker)})
		res := repo.drill(t, "--path", "clusters/dwk", "--timeout", "40s")
		assertFailed(t, res)
		for _, want := range []string{"unhealthy Deployment web/worker (clusters/dwk/web/worker.yaml:1)", "never became healthy: InProgress", "at the timeout"} {
			if !strings.Contains(res.stdout+res.stderr, want) {
				t.Errorf("output lacks %q:\nstdout:\n%s", want, res.stdout)
			}
		}
	})
	t.Run("a kustomization lists a file kept out of git", func(t *testing.T) {
		t.Parallel()
		repo := newDrillRepo(t, true, map[string]*string{
			"clusters/dwk/syncs/pingpong.yaml":       childSync("pingpong", "apps/pingpong"),
			"apps/pingpong/kustomization.yaml":       drillFile("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: web\nresources:\n- manifests/configmap.yaml\n- manifests/a.yaml\n- manifests/b.yaml\n- manifests/c.yaml\n- manifests/secret.yaml\n"),
			"apps/pingpong/.gitignore":               drillFile("manifests/secret.yaml\n"),
			"apps/pingpong/manifests/configmap.yaml": drillFile("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pingpong\n"),
			"apps/pingpong/manifests/a.yaml":         drillFile("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"),
			"apps/pingpong/manifests/b.yaml":         drillFile("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"),
			"apps/pingpong/manifests/c.yaml":         drillFile("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"),
		})
		res := repo.drill(t, "--path", "clusters/dwk")
		assertFailed(t, res)
		want := "  ✗ missing-file Sync capstan-system/pingpong (apps/pingpong/kustomization.yaml:9):\n" +
			`      resource "manifests/secret.yaml" does not exist in the repository; it is ignored by apps/pingpong/.gitignore, so it was never committed` + "\n"
		if !strings.Contains(res.stdout, want) {
			t.Errorf("report lacks\n%s\n%s", want, res.stdout)
		}
		if strings.Contains(res.stdout, "does not exist at") || strings.Contains(res.stdout, "sync-failed Sync capstan-system/pingpong") {
			t.Errorf("the missing file is reported as a missing path or a bare Sync failure:\n%s", res.stdout)
		}
	})
	t.Run("a claim of a StorageClass nothing provides", func(t *testing.T) {
		t.Parallel()
		repo := newDrillRepo(t, true, map[string]*string{"clusters/dwk/web/data.yaml": drillFile(claimOfClass("fast-ssd"))})
		start := time.Now()
		res := repo.drill(t, "--path", "clusters/dwk", "--timeout", "3m")
		assertFailed(t, res)
		for _, want := range []string{
			"  ✗ missing-storageclass PersistentVolumeClaim web/data (clusters/dwk/web/data.yaml:1) [Sync capstan-system/capstan-system]:\n" +
				"      spec.storageClassName names StorageClass fast-ssd, which no manifest in git creates and k3s does not provide (it has local-path, the default): the claim stays Pending and the pods using it are never scheduled\n",
			"Note: the rebuilt cluster has 1 PersistentVolumeClaim,",
		} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("report lacks\n%s\n%s", want, res.stdout)
			}
		}
		if strings.Contains(res.stdout, "at the timeout") || strings.Contains(res.stdout, "unhealthy PersistentVolumeClaim") || time.Since(start) > 2*time.Minute {
			t.Errorf("the missing StorageClass was found only after the timeout (%s):\n%s", time.Since(start), res.stdout)
		}
	})
	t.Run("a path typo", func(t *testing.T) {
		t.Parallel()
		repo := newDrillRepo(t, true, nil)
		res := repo.drill(t, "--path", "clusters/dwkk")
		if res.code == 0 {
			t.Fatal("the drill of a missing path succeeded")
		}
		if strings.Count(res.stderr, "error:") != 1 || !strings.Contains(res.stderr, `error: Repository: path not found in the repository: "clusters/dwkk" is not a directory of the repository at main@sha1:`+repo.head+"; it has clusters/dwk") {
			t.Errorf("stderr does not name the path and what exists:\n%s", res.stderr)
		}
		if strings.Contains(res.stderr, "Cluster") || res.stdout != "" {
			t.Errorf("a cluster was created or a report printed for a missing path:\nstdout: %s\nstderr: %s", res.stdout, res.stderr)
		}
	})
}

// assertFailed checks the exit status and the one error line of a drill
// whose repository did not rebuild.
func assertFailed(t *testing.T, res result) {
	t.Helper()
	if res.code != 1 {
		t.Errorf("exit %d, want 1", res.code)
	}
	if strings.Count(res.stderr, "error:") != 1 || !strings.Contains(res.stderr, "error: the repository did not rebuild a Ready cluster") {
		t.Errorf("stderr lacks the one error line:\n%s", res.stderr)
	}
}

const apiNeedingSecrets = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      imagePullSecrets: [{name: regcred}]
      containers:
      - name: api
        image: registry.example.com/api:1.0
        env:
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: api-db, key: password}}
`

const unschedulableWorker = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: worker}
  template:
    metadata:
      labels: {app: worker}
    spec:
      nodeSelector: {disktype: ssd}
      containers:
      - name: worker
        image: registry.example.com/worker:1.0
`
