package controller

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// TestSemverTracking follows the newest tag of a range: no tag, a release,
// an ignored pre-release, a newer release, the newer tag deleted (back and
// pruned) and a tag force-moved to another commit.
func TestSemverTracking(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	app := func(version string) string {
		return configMap(ns, "app", version+" ${CAPSTAN_TAG} ${CAPSTAN_COMMIT_SHORT}")
	}
	c0 := r.srv.Commit(t, r.name, "main", map[string]string{"apps/app.yaml": app("0")}, "zero")
	r.srv.Tag(t, r.name, "v0.9.0", c0, "")
	r.newSync(t, ns, "prod", func(s *capstanv1.SyncSpec) {
		s.Path = "apps"
		s.Ref = &capstanv1.GitRef{Semver: ">=1.0.0"}
		s.PostBuild = &capstanv1.PostBuild{}
	})
	s := waitFailed(t, ns, "prod", capstanv1.NoMatchingTagReason)
	if msg := readyMessage(s); !strings.Contains(msg, `">=1.0.0"`) || !strings.Contains(msg, "v0.9.0") || s.Status.Inventory != nil {
		t.Errorf("no matching tag: message %q, inventory %v; want the range and v0.9.0 named, nothing applied", msg, s.Status.Inventory)
	}
	if get(t, configMapGVK, ns, "app") != nil {
		t.Error("a revision out of the range was applied")
	}

	c1 := r.srv.Commit(t, r.name, "main", map[string]string{"apps/app.yaml": app("1")}, "one")
	r.srv.Tag(t, r.name, "v1.0.0", c1, "release 1.0.0")
	requestSync(t, ns, "prod")
	waitReady(t, ns, "prod", "v1.0.0@sha1:"+c1)
	if got, want := configMapValue(t, ns, "app"), "1 v1.0.0 "+c1[:7]; got != want {
		t.Errorf("app = %q, want %q", got, want)
	}

	rc := r.srv.Commit(t, r.name, "main", map[string]string{"apps/app.yaml": app("rc"), "apps/new.yaml": configMap(ns, "new", "x")}, "rc")
	r.srv.Tag(t, r.name, "v1.1.0-rc.1", rc, "")
	requestSync(t, ns, "prod")
	s = waitSync(t, ns, "prod", time.Minute, func(s *capstanv1.Sync) bool { return s.Status.NewestTag == "v1.1.0-rc.1" && isReady(s) })
	if s.Status.LastAppliedRevision != "v1.0.0@sha1:"+c1 {
		t.Errorf("a pre-release was applied: %s", s.Status.LastAppliedRevision)
	}

	c2 := r.srv.Commit(t, r.name, "main", map[string]string{"apps/app.yaml": app("2")}, "two")
	r.srv.Tag(t, r.name, "v1.1.0", c2, "")
	requestSync(t, ns, "prod")
	waitReady(t, ns, "prod", "v1.1.0@sha1:"+c2)
	if get(t, configMapGVK, ns, "new") == nil || configMapValue(t, ns, "app") != "2 v1.1.0 "+c2[:7] {
		t.Errorf("v1.1.0 not applied: app = %q", configMapValue(t, ns, "app"))
	}

	r.srv.DeleteTag(t, r.name, "v1.1.0")
	requestSync(t, ns, "prod")
	waitReady(t, ns, "prod", "v1.0.0@sha1:"+c1)
	if get(t, configMapGVK, ns, "new") != nil {
		t.Error("an object only v1.1.0 declared was not pruned when the tag went away")
	}

	moved := r.srv.Commit(t, r.name, "main", map[string]string{"apps/app.yaml": app("moved"), "apps/new.yaml": testenv.Delete}, "hotfix")
	r.srv.Tag(t, r.name, "v1.0.0", moved, "")
	requestSync(t, ns, "prod")
	waitReady(t, ns, "prod", "v1.0.0@sha1:"+moved)
	waitEvent(t, ns, "TagMoved", "tag v1.0.0 moved from commit "+c1+" to "+moved)
}

// waitEvent waits for an event with reason whose note holds text.
func waitEvent(t *testing.T, ns, reason, text string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var events corev1.EventList
		if err := env.admin.List(ctx, &events, client.InNamespace(ns)); err != nil {
			return false, err
		}
		for _, e := range events.Items {
			if e.Reason == reason && strings.Contains(e.Message, text) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no %s event saying %q: %v", reason, text, err)
	}
}
