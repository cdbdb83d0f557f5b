package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// neverReadyImage is an image whose pods never become ready on the test
// cluster: neverReadyStage keeps them waiting in ImagePullBackOff.
const neverReadyImage = "registry.capstan.test/never-ready:1"

// neverReadyStage leaves pods of neverReadyImage waiting in ImagePullBackOff.
var neverReadyStage = testenv.FaultStage("capstan-test-never-ready", neverReadyImage, testenv.ImagePullBackOff)

// statusHost checks requests as GitHub's status API and a Slack incoming
// webhook do, and records what they accepted.
type statusHost struct {
	token string

	mu       sync.Mutex
	statuses []string
	alerts   []string
}

func (h *statusHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var m map[string]string
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &m) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/repos/team/config/statuses/"):
		if r.Header.Get("Authorization") != "Bearer "+h.token || r.Header.Get("Accept") != "application/vnd.github+json" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		sha := strings.TrimPrefix(r.URL.Path, "/api/repos/team/config/statuses/")
		h.statuses = append(h.statuses, sha+" "+m["state"]+" "+m["context"]+" "+m["description"])
		w.WriteHeader(http.StatusCreated)
	case r.URL.Path == "/slack/T000/B000":
		h.alerts = append(h.alerts, m["text"])
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (h *statusHost) seen() ([]string, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.statuses...), append([]string(nil), h.alerts...)
}

// newNotifyEnv is a test namespace, a status host accepting token served
// on loopback, and a git repository team/config on a real git server.
func newNotifyEnv(t *testing.T, token string) (string, *statusHost, *httptest.Server, *repo) {
	t.Helper()
	host := &statusHost{token: token}
	hs := httptest.NewServer(host)
	t.Cleanup(hs.Close)
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "team/config")
	return env.cluster.Namespace(t), host, hs, &repo{srv: srv, name: "team/config"}
}

// TestNotifyStatusesAndAlerts commits a good revision, one whose
// Deployment never becomes ready, and the fix: the commit statuses say
// pending/success, pending/failure with the cause, pending/success, and the
// alert webhook gets exactly one failure and one recovery.
func TestNotifyStatusesAndAlerts(t *testing.T) {
	t.Parallel()
	ns, host, hs, r := newNotifyEnv(t, "gh-token")
	app := func(image string) map[string]string {
		return map[string]string{"app.yaml": strings.Replace(deployment(ns, "web", 1), "nginx:1.27", image, 1)}
	}
	createSecret(t, ns, "gh", map[string][]byte{"token": []byte(host.token)})
	createSecret(t, ns, "slack", map[string][]byte{"address": []byte(hs.URL + "/slack/T000/B000")})

	rev1 := r.commit(t, app("nginx:1.27"))
	r.newSync(t, ns, "notified", func(s *capstanv1.SyncSpec) {
		s.SourceInterval = &metav1.Duration{Duration: time.Second}
		s.RetryInterval = &metav1.Duration{Duration: 2 * time.Second}
		s.Timeout = &metav1.Duration{Duration: 6 * time.Second}
		s.Notify = []capstanv1.Notify{
			{Type: capstanv1.NotifyGitHub, URL: hs.URL + "/api", SecretRef: &capstanv1.LocalObjectReference{Name: "gh"}},
			{Type: capstanv1.NotifySlack, SecretRef: &capstanv1.LocalObjectReference{Name: "slack"}},
		}
	})
	waitReady(t, ns, "notified", rev1)
	rev2 := r.commit(t, app(neverReadyImage))
	waitSync(t, ns, "notified", 60*time.Second, func(s *capstanv1.Sync) bool {
		c := findCondition(s, capstanv1.ReadyCondition)
		return s.Status.LastAttemptedRevision == rev2 && c != nil && c.Reason == capstanv1.HealthCheckFailedReason
	})
	// Let the failing revision be retried: a retry sends nothing new.
	time.Sleep(5 * time.Second)
	rev3 := r.commit(t, app("nginx:1.28"))
	waitReady(t, ns, "notified", rev3)
	time.Sleep(time.Second)

	statuses, alerts := host.seen()
	sha := func(rev string) string { return rev[strings.Index(rev, ":")+1:] }
	want := []string{sha(rev1) + " pending", sha(rev1) + " success", sha(rev2) + " pending", sha(rev2) + " failure", sha(rev3) + " pending", sha(rev3) + " success"}
	t.Logf("statuses:\n%s\nalerts:\n%s", strings.Join(statuses, "\n"), strings.Join(alerts, "\n"))
	if len(statuses) != len(want) {
		t.Fatalf("got %d commit statuses, want %d", len(statuses), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(statuses[i], w+" capstan/"+ns+"/notified ") {
			t.Errorf("status %d = %q, want %q capstan/%s/notified ...", i, statuses[i], w, ns)
		}
	}
	if cause := " Deployment " + ns + "/web: ImagePullBackOff"; !strings.Contains(statuses[3], cause) {
		t.Errorf("failure status %q does not name the root cause %q", statuses[3], cause)
	}
	if len(alerts) != 2 || !strings.Contains(alerts[0], "failed at "+rev2) || !strings.Contains(alerts[1], "healthy again at "+rev3) {
		t.Fatalf("alerts = %q, want one failure at %s and one recovery at %s", alerts, rev2, rev3)
	}
	if !strings.Contains(alerts[0], "Deployment "+ns+"/web: ImagePullBackOff") {
		t.Errorf("failure alert %q does not name the root cause", alerts[0])
	}
}

// TestNotifySettingAppliesToEverySync sets bootstrap's notify setting (the
// notify key of settings.yaml, in the controller's namespace): a Sync
// without spec.notify posts its commit statuses there, with the setting's
// Secret; a Sync with its own spec.notify does not.
func TestNotifySettingAppliesToEverySync(t *testing.T) {
	t.Parallel()
	ns, host, hs, r := newNotifyEnv(t, "setting-token")

	sys := manifests.Namespace
	if err := env.admin.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sys}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	secret := createSecret(t, sys, "notify-setting-"+ns, map[string][]byte{"token": []byte(host.token)})
	settings := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: manifests.SettingsName, Namespace: sys},
		Data:       map[string]string{manifests.NotifySettingKey: fmt.Sprintf("- type: github\n  url: %s/api\n  secretRef: {name: %s}\n", hs.URL, secret)},
	}
	if err := env.admin.Create(t.Context(), settings); err != nil {
		t.Fatalf("creating the settings: %v", err)
	}
	t.Cleanup(func() { _ = env.admin.Delete(context.Background(), settings) })

	rev := r.commit(t, map[string]string{"cm.yaml": configMap(ns, "c", "one")})
	r.newSync(t, ns, "by-setting", nil)
	r.newSync(t, ns, "own-notify", func(s *capstanv1.SyncSpec) {
		s.Notify = []capstanv1.Notify{{Type: capstanv1.NotifySlack, URL: hs.URL + "/slack/T000/B000"}}
	})
	waitReady(t, ns, "by-setting", rev)
	waitReady(t, ns, "own-notify", rev)
	sha := rev[strings.Index(rev, ":")+1:]
	want := []string{sha + " pending capstan/" + ns + "/by-setting applying", sha + " success capstan/" + ns + "/by-setting applied and healthy"}
	var mine []string
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		statuses, _ := host.seen()
		mine = mine[:0]
		for _, s := range statuses {
			if strings.Contains(s, " capstan/"+ns+"/") { // other tests' Syncs may report here too
				mine = append(mine, s)
			}
		}
		return len(mine) >= len(want), nil
	})
	if err != nil || !slices.Equal(mine, want) {
		t.Fatalf("commit statuses of this namespace = %q, want %q", mine, want)
	}
	// Every reconcile read the setting, from the cache.
	if n := env.settingsGets.Load(); n != 0 {
		t.Errorf("the controller sent %d GET requests for the settings ConfigMap, want 0 (it reads its cache)", n)
	}
}
