package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// hookSender posts deliveries to the built controller's receiver the way
// a git host does.
type hookSender struct {
	t     *testing.T
	url   string
	token []byte
}

// githubPush is a push payload with the fields GitHub documents for the
// push event.
func githubPush(ref, before, after, cloneURL string) []byte {
	return fmt.Appendf(nil, `{"ref":%q,"before":%q,"after":%q,"created":false,"deleted":false,"forced":false,`+
		`"base_ref":null,"compare":"https://github.com/o/config/compare/x...y","commits":[{"id":%q,"message":"change","distinct":true}],`+
		`"head_commit":{"id":%q},"repository":{"id":1,"name":"config","full_name":"o/config","clone_url":%q,"default_branch":"main"},`+
		`"pusher":{"name":"dev","email":"dev@example.com"},"sender":{"login":"dev","id":2}}`,
		ref, before, after, after, after, cloneURL)
}

// postGitHub sends body as GitHub does, signed with key, and returns the
// status code.
func (h hookSender) postGitHub(event string, body, key []byte) int {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.t.Context(), http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/e2e")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("%d", time.Now().UnixNano()))
	req.Header.Set("X-GitHub-Hook-ID", "1")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("posting webhook: %v", err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// freeAddr returns a loopback address no one listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// TestWebhookPushSyncsAtOnce runs the built controller with its receiver,
// a Sync that polls only hourly, and a real git server: a signed GitHub push
// gets the new commit applied at once, and a bad signature, a
// push to another branch, a replayed body and an oversized body change
// nothing.
func TestWebhookPushSyncsAtOnce(t *testing.T) {
	t.Parallel()
	e := newControllerEnv(t)
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "config")
	ns := manifests.Namespace
	cm := func(v string) map[string]string {
		return map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hooked\n  namespace: " + ns + "\ndata:\n  v: " + v + "\n"}
	}
	sha1 := srv.Commit(t, "config", "main", cm("one"), "one")
	token := []byte("e2e-" + strings.Repeat("k", 32))
	createHookedSync(t, e.admin, hookedSync{name: "hooked", url: srv.HTTPURL("config"), user: srv.Username(), password: srv.Password(), hookToken: token})

	addr := freeAddr(t)
	e.startController(t, "--webhook-bind-address", addr)
	s := waitSyncReady(t, e.admin, ns, "hooked", "main@sha1:"+sha1, 60*time.Second)
	if want := capstanv1.WebhookPath(string(token), "hooked", ns); s.Status.WebhookPath != want {
		t.Fatalf("status.webhookPath = %q, want %q", s.Status.WebhookPath, want)
	}
	h := hookSender{t: t, url: "http://" + addr + s.Status.WebhookPath, token: token}

	sha2 := srv.Commit(t, "config", "main", cm("two"), "two")
	push2 := githubPush("refs/heads/main", sha1, sha2, srv.HTTPURL("config"))
	start := time.Now()
	if code := h.postGitHub("push", push2, token); code != http.StatusAccepted {
		t.Fatalf("signed push: status %d, want 202", code)
	}
	took := waitApplied(t, e.admin, ns, "hooked", "main@sha1:"+sha2, start)
	// The Sync checks its source hourly, so only the webhook can have
	// brought the commit in this soon. How soon is a figure (about 0.4 s on
	// an idle machine), logged here, not a timed assertion that a loaded
	// machine would break.
	t.Logf("signed push to applied: %s", took)
	if took >= 30*time.Second {
		t.Errorf("signed push applied after %s: not by the webhook", took)
	}

	sha3 := srv.Commit(t, "config", "main", cm("three"), "three")
	before := getSync(t, e.admin, ns, "hooked")
	refusals := []struct {
		name string
		code int
		send func() int
	}{
		{"bad signature", http.StatusUnauthorized, func() int {
			return h.postGitHub("push", githubPush("refs/heads/main", sha2, sha3, srv.HTTPURL("config")), []byte("not-the-token"))
		}},
		{"wrong branch", http.StatusNoContent, func() int {
			return h.postGitHub("push", githubPush("refs/heads/dev", sha2, sha3, srv.HTTPURL("config")), token)
		}},
		{"replay of an old body", http.StatusConflict, func() int { return h.postGitHub("push", push2, token) }},
		{"oversized body", http.StatusRequestEntityTooLarge, func() int {
			big := githubPush("refs/heads/main", sha2, sha3, srv.HTTPURL("config"))
			big = append(big[:len(big)-1], []byte(`,"padding":"`+strings.Repeat("x", 2<<20)+`"}`)...)
			return h.postGitHub("push", big, token)
		}},
		{"form-encoded body", http.StatusUnsupportedMediaType, func() int {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.url, strings.NewReader("payload=%7B%7D"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-GitHub-Event", "push")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			return resp.StatusCode
		}},
		{"unknown path", http.StatusNotFound, func() int {
			return hookSender{t: t, url: "http://" + addr + capstanv1.WebhookPath("guess", "hooked", ns)}.postGitHub("push", push2, token)
		}},
	}
	for _, r := range refusals {
		if code := r.send(); code != r.code {
			t.Errorf("%s: status %d, want %d", r.name, code, r.code)
		}
	}
	time.Sleep(2 * time.Second)
	after := getSync(t, e.admin, ns, "hooked")
	if after.Status.LastAppliedRevision != "main@sha1:"+sha2 ||
		after.Annotations[capstanv1.ReconcileRequestAnnotation] != before.Annotations[capstanv1.ReconcileRequestAnnotation] {
		t.Errorf("refused deliveries changed the Sync: applied %s, request %q (was %q)", after.Status.LastAppliedRevision,
			after.Annotations[capstanv1.ReconcileRequestAnnotation], before.Annotations[capstanv1.ReconcileRequestAnnotation])
	}

	if code := h.postGitHub("push", githubPush("refs/heads/main", sha2, sha3, srv.HTTPURL("config")), token); code != http.StatusAccepted {
		t.Fatalf("signed push after the refusals: status %d, want 202", code)
	}
	waitSyncReady(t, e.admin, ns, "hooked", "main@sha1:"+sha3, 10*time.Second)
}

// hookedSync is a Sync in capstan-system that polls its source only
// hourly and syncs on webhook deliveries signed with hookToken; with
// notify, it reports there with statusToken.
type hookedSync struct {
	name, url, user, password string
	hookToken                 []byte
	notify                    *capstanv1.Notify
	statusToken               string
}

func createHookedSync(t *testing.T, c client.Client, h hookedSync) {
	t.Helper()
	ns := manifests.Namespace
	secrets := []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: h.name + "-git", Namespace: ns},
			Data: map[string][]byte{"username": []byte(h.user), "password": []byte(h.password)}},
		{ObjectMeta: metav1.ObjectMeta{Name: h.name + "-hook", Namespace: ns}, Data: map[string][]byte{capstanv1.WebhookTokenKey: h.hookToken}},
	}
	s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Name: h.name, Namespace: ns}, Spec: capstanv1.SyncSpec{
		URL: h.url, Interval: metav1.Duration{Duration: time.Hour},
		SourceInterval: &metav1.Duration{Duration: time.Hour},
		SecretRef:      &capstanv1.LocalObjectReference{Name: h.name + "-git"},
		Webhook:        &capstanv1.Webhook{SecretRef: capstanv1.LocalObjectReference{Name: h.name + "-hook"}},
	}}
	if h.notify != nil {
		secrets = append(secrets, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: h.name + "-status", Namespace: ns},
			Data: map[string][]byte{"token": []byte(h.statusToken)}})
		n := *h.notify
		n.SecretRef = &capstanv1.LocalObjectReference{Name: h.name + "-status"}
		s.Spec.Notify = []capstanv1.Notify{n}
	}
	for _, secret := range secrets {
		if err := c.Create(t.Context(), secret); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
}

// waitApplied polls tightly until the Sync has applied rev, and returns the
// time since start.
func waitApplied(t *testing.T, c client.Client, ns, name, rev string, start time.Time) time.Duration {
	t.Helper()
	s := &capstanv1.Sync{}
	err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
			return false, nil
		}
		return s.Status.LastAppliedRevision == rev, nil
	})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("sync %s/%s did not apply %s: %v", ns, name, rev, err)
	}
	return took
}

func getSync(t *testing.T, c client.Client, ns, name string) *capstanv1.Sync {
	t.Helper()
	s := &capstanv1.Sync{}
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		return c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s) == nil, nil
	})
	if err != nil {
		t.Fatalf("reading sync %s/%s: %v", ns, name, err)
	}
	return s
}
