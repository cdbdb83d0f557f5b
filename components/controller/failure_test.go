package controller

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

func TestDependsOnOrdersSyncs(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	rev := r.commit(t, map[string]string{"first/a.yaml": configMap(ns, "first", "1"), "second/b.yaml": configMap(ns, "second", "1")})
	r.newSync(t, ns, "second", func(s *capstanv1.SyncSpec) {
		s.Path = "second"
		s.DependsOn = []capstanv1.LocalObjectReference{{Name: "first"}}
	})
	waitFailed(t, ns, "second", capstanv1.DependencyNotReadyReason)
	if get(t, configMapGVK, ns, "second") != nil {
		t.Fatal("second was applied before its dependency existed")
	}
	r.newSync(t, ns, "first", func(s *capstanv1.SyncSpec) { s.Path = "first" })
	waitReady(t, ns, "second", rev)
	first := get(t, configMapGVK, ns, "first").GetCreationTimestamp()
	second := get(t, configMapGVK, ns, "second").GetCreationTimestamp()
	if second.Before(&first) {
		t.Errorf("second created at %v before first at %v", second, first)
	}
}

func TestSuspendAndResume(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	rev1 := r.commit(t, map[string]string{"a.yaml": configMap(ns, "a", "1")})
	r.newSync(t, ns, "apps", nil)
	waitReady(t, ns, "apps", rev1)

	setSuspend(t, ns, "apps", true)
	waitSync(t, ns, "apps", 30*time.Second, func(s *capstanv1.Sync) bool { return s.Status.ObservedGeneration == s.Generation })
	rev2 := r.commit(t, map[string]string{"a.yaml": configMap(ns, "a", "2")})
	requestSync(t, ns, "apps")
	time.Sleep(2 * time.Second)
	s := waitSync(t, ns, "apps", 10*time.Second, func(*capstanv1.Sync) bool { return true })
	if s.Status.LastAppliedRevision != rev1 {
		t.Fatalf("suspended sync applied %s", s.Status.LastAppliedRevision)
	}

	setSuspend(t, ns, "apps", false)
	waitReady(t, ns, "apps", rev2)
}

func setSuspend(t *testing.T, ns, name string, suspend bool) {
	t.Helper()
	s := &capstanv1.Sync{}
	if err := env.admin.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		t.Fatalf("getting sync: %v", err)
	}
	patch := client.MergeFrom(s.DeepCopy())
	s.Spec.Suspend = suspend
	if err := env.admin.Patch(t.Context(), s, patch); err != nil {
		t.Fatalf("setting suspend=%v: %v", suspend, err)
	}
}

func TestYAMLErrorLeavesClusterUntouched(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	rev1 := r.commit(t, map[string]string{"a.yaml": configMap(ns, "a", "1")})
	r.newSync(t, ns, "apps", nil)
	waitReady(t, ns, "apps", rev1)

	r.commit(t, map[string]string{
		"a.yaml":     configMap(ns, "a", "2"),
		"z/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n data: [oops\n",
		"z/new.yaml": configMap(ns, "new", "1"),
	})
	requestSync(t, ns, "apps")
	s := waitFailed(t, ns, "apps", capstanv1.BuildFailedReason)
	msg := readyMessage(s)
	if !strings.Contains(msg, "z/bad.yaml") {
		t.Errorf("message %q does not name the file", msg)
	}
	if !strings.Contains(msg, "bad.yaml:") {
		t.Errorf("message %q does not give a line", msg)
	}
	if stalled := findCondition(s, capstanv1.StalledCondition); stalled == nil || stalled.Status != metav1.ConditionTrue {
		t.Errorf("build failure is not Stalled: %s", describe(s))
	}
	if v := configMapValue(t, ns, "a"); v != "1" {
		t.Errorf("a changed to %q by a revision that failed to build", v)
	}
	if get(t, configMapGVK, ns, "new") != nil {
		t.Error("new was created by a revision that failed to build")
	}
}

func TestGitServerDownThenBack(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	rev1 := r.commit(t, map[string]string{"a.yaml": configMap(ns, "a", "1")})
	r.newSync(t, ns, "apps", func(s *capstanv1.SyncSpec) { s.RetryInterval = &metav1.Duration{Duration: time.Second} })
	waitReady(t, ns, "apps", rev1)

	r.srv.Stop()
	requestSync(t, ns, "apps")
	s := waitFailed(t, ns, "apps", capstanv1.FetchFailedReason)
	if strings.Contains(readyMessage(s), r.srv.Password()) {
		t.Fatalf("status message leaks the password: %q", readyMessage(s))
	}
	if get(t, configMapGVK, ns, "a") == nil {
		t.Fatal("objects were removed while git was unreachable")
	}
	rev2 := r.commit(t, map[string]string{"a.yaml": configMap(ns, "a", "2")})
	r.srv.Start(t)
	waitReady(t, ns, "apps", rev2)
}

func TestSSHAuthAndWrongKey(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	rev := r.commit(t, map[string]string{"a.yaml": configMap(ns, "a", "ssh")})
	good := createSecret(t, ns, "ssh-good", map[string][]byte{"identity": r.srv.ClientPrivateKeyPEM(), "known_hosts": r.srv.KnownHosts()})
	other := newRepo(t) // a second server: its client key is not authorized on the first
	bad := createSecret(t, ns, "ssh-bad", map[string][]byte{"identity": other.srv.ClientPrivateKeyPEM(), "known_hosts": r.srv.KnownHosts()})
	wrongHost := createSecret(t, ns, "ssh-wrong-host", map[string][]byte{"identity": r.srv.ClientPrivateKeyPEM(), "known_hosts": other.srv.KnownHosts()})

	for name, secret := range map[string]string{"good": good, "bad-key": bad, "wrong-host": wrongHost} {
		s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: capstanv1.SyncSpec{
			URL: r.srv.SSHURL(r.name), Interval: metav1.Duration{Duration: time.Hour},
			SecretRef: &capstanv1.LocalObjectReference{Name: secret},
		}}
		if err := env.admin.Create(t.Context(), s); err != nil {
			t.Fatalf("creating sync %s: %v", name, err)
		}
	}
	waitReady(t, ns, "good", rev)
	for _, name := range []string{"bad-key", "wrong-host"} {
		s := waitFailed(t, ns, name, capstanv1.AuthenticationFailedReason)
		t.Logf("%s: %s", name, readyMessage(s))
	}
}

func TestCRDSchemaRefusesBadSpecs(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	tests := []struct {
		name   string
		mutate func(*capstanv1.SyncSpec)
	}{
		{"file url", func(s *capstanv1.SyncSpec) { s.URL = "file:///etc" }},
		{"path with dotdot", func(s *capstanv1.SyncSpec) { s.Path = "../outside" }},
		{"absolute path", func(s *capstanv1.SyncSpec) { s.Path = "/etc" }},
		{"two refs", func(s *capstanv1.SyncSpec) { s.Ref = &capstanv1.GitRef{Branch: "main", Tag: "v1"} }},
		{"short commit", func(s *capstanv1.SyncSpec) { s.Ref = &capstanv1.GitRef{Commit: "abc"} }},
	}
	for i, tt := range tests {
		s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Name: "bad-" + string(rune('a'+i)), Namespace: ns},
			Spec: capstanv1.SyncSpec{URL: "https://example.com/repo.git"}}
		tt.mutate(&s.Spec)
		if err := env.admin.Create(t.Context(), s); err == nil {
			t.Errorf("%s: the API server accepted %+v", tt.name, s.Spec)
		}
	}
	// An interval of "banana" can only be written as raw JSON.
	raw := []byte(`{"apiVersion":"capstan.dev/v1","kind":"Sync","metadata":{"name":"banana","namespace":"` + ns + `"},"spec":{"url":"https://example.com/r.git","interval":"banana"}}`)
	err := env.admin.Create(t.Context(), rawSync(raw))
	if err == nil || !strings.Contains(err.Error(), "interval") {
		t.Errorf("interval banana: err = %v, want a validation error naming interval", err)
	}
}
