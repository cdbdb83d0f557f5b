package controller

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// TestAPIServerRefusesUntrustedSyncs covers what the CRD schema and the API
// server refuse outright: nothing reaches the controller.
func TestAPIServerRefusesUntrustedSyncs(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	huge := strings.Repeat("x", 300<<10)
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"interval banana", `"spec":{"url":"https://example.com/r.git","interval":"banana"}`, "spec.interval"},
		{"negative interval", `"spec":{"url":"https://example.com/r.git","interval":"-1m"}`, "spec.interval"},
		{"interval without unit", `"spec":{"url":"https://example.com/r.git","interval":"5"}`, "spec.interval"},
		{"file url", `"spec":{"url":"file:///etc"}`, "spec.url"},
		{"scp-like url with a password", `"spec":{"url":"git:hunter2@example.com:org/r.git"}`, "spec.url"},
		{"huge annotation", `"metadata":{"name":"n","namespace":"` + ns + `","annotations":{"a":"` + huge + `"}},"spec":{"url":"https://example.com/r.git"}`, "metadata.annotations: Too long"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := tt.raw
			if !strings.HasPrefix(body, `"metadata"`) {
				body = `"metadata":{"name":"bad-` + string(rune('a'+i)) + `","namespace":"` + ns + `"},` + body
			}
			err := env.admin.Create(t.Context(), rawSync([]byte(`{"apiVersion":"capstan.dev/v1","kind":"Sync",`+body+`}`)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %.300v, want a refusal naming %q", err, tt.want)
			}
		})
	}
}

// TestUntrustedSyncsFailAlone creates Syncs the schema accepts but the
// controller must refuse, each reported on that Sync alone, while a healthy
// Sync keeps reconciling with the default concurrency.
func TestUntrustedSyncsFailAlone(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	rev1 := r.commit(t, map[string]string{"a.yaml": configMap(ns, "a", "1")})
	const password = "pw-7c2e91d04b-hunter2"
	host := strings.TrimPrefix(strings.TrimSuffix(r.srv.HTTPURL(r.name), "/config.git"), "http://")
	// known_hosts names this server's address with another server's key.
	other := newRepo(t)
	hosts := knownhosts.Line([]string{knownhosts.Normalize(r.srv.SSHAddr())}, other.srv.HostPublicKey()) + "\n"
	wrongHost := createSecret(t, ns, "wrong-host", map[string][]byte{"identity": r.srv.ClientPrivateKeyPEM(), "known_hosts": []byte(hosts)})
	hang := newTarpit(t)

	type bad struct {
		name, url, secret string
		reason            string
		stalled           bool
		msg               string
	}
	bads := []bad{
		{"metadata-ipv4", "https://169.254.169.254/latest/meta-data.git", "", capstanv1.FetchFailedReason, true, "link-local or a metadata address"},
		{"metadata-http", "http://169.254.169.254/computeMetadata/v1.git", "", capstanv1.FetchFailedReason, true, "link-local or a metadata address"},
		{"metadata-mapped", "https://[::ffff:169.254.169.254]/r.git", "", capstanv1.FetchFailedReason, true, "link-local or a metadata address"},
		{"link-local-ipv6", "https://[fe80::1]/r.git", "", capstanv1.FetchFailedReason, true, "link-local or a metadata address"},
		{"metadata-google", "https://metadata.google.internal/computeMetadata/v1/r.git", "", capstanv1.FetchFailedReason, true, "cloud metadata service"},
		{"metadata-octal", "https://0251.0376.0251.0376/r.git", "", capstanv1.FetchFailedReason, true, "not a canonical IP address"},
		{"password-in-https-url", "http://capstan:" + password + "@" + host + "/config.git", "", capstanv1.FetchFailedReason, true, "credentials in an http URL"},
		{"token-in-https-url", "https://" + password + "@" + host + "/config.git", "", capstanv1.FetchFailedReason, true, "credentials in an https URL"},
		{"password-in-ssh-url", "ssh://git:" + password + "@" + r.srv.SSHAddr() + "/config.git", "", capstanv1.FetchFailedReason, true, "password in an ssh URL"},
		{"missing-secret", r.srv.HTTPURL(r.name), "does-not-exist", capstanv1.AuthenticationFailedReason, false, "secret " + ns + "/does-not-exist not found"},
		{"wrong-host-key", r.srv.SSHURL(r.name), wrongHost, capstanv1.AuthenticationFailedReason, false, "ssh host key verification failed: knownhosts: key mismatch"},
		{"tarpit", hang.url, "", "", false, ""},
	}
	for _, b := range bads {
		s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Name: b.name, Namespace: ns}, Spec: capstanv1.SyncSpec{
			URL: b.url, Interval: metav1.Duration{Duration: time.Hour},
		}}
		if b.secret != "" {
			s.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: b.secret}
		}
		if err := env.admin.Create(t.Context(), s); err != nil {
			t.Fatalf("creating %s: %v", b.name, err)
		}
	}
	r.newSync(t, ns, "healthy", nil)
	waitReady(t, ns, "healthy", rev1)
	if err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		return hang.reached.Load(), nil
	}); err != nil {
		t.Fatal("the tarpit Sync never connected")
	}

	// A new commit is applied while every bad Sync exists, one of them hanging.
	rev2 := r.commit(t, map[string]string{"a.yaml": configMap(ns, "a", "2")})
	requestSync(t, ns, "healthy")
	start := time.Now()
	waitReady(t, ns, "healthy", rev2)
	t.Logf("healthy Sync Ready at the new commit after %s", time.Since(start).Round(time.Millisecond))
	// The tarpit Sync is still in its first reconcile, holding a worker.
	if s := waitSync(t, ns, "tarpit", time.Second, func(*capstanv1.Sync) bool { return true }); findCondition(s, capstanv1.ReadyCondition) != nil {
		t.Errorf("the tarpit Sync finished a reconcile, so it tested no hanging remote: %s", describe(s))
	}

	for _, b := range bads {
		if b.reason == "" {
			continue
		}
		s := waitSync(t, ns, b.name, time.Minute, func(s *capstanv1.Sync) bool {
			c := findCondition(s, capstanv1.ReadyCondition)
			return c != nil && c.Status == metav1.ConditionFalse && c.Reason != capstanv1.ProgressingReason
		})
		c := findCondition(s, capstanv1.ReadyCondition)
		t.Logf("%s: %s: %s", b.name, c.Reason, c.Message)
		if c.Reason != b.reason || !strings.Contains(c.Message, b.msg) {
			t.Errorf("%s: Ready=False %s %q, want %s with %q", b.name, c.Reason, c.Message, b.reason, b.msg)
		}
		if st := findCondition(s, capstanv1.StalledCondition); b.stalled != (st != nil && st.Status == metav1.ConditionTrue) {
			t.Errorf("%s: Stalled = %v, want %v", b.name, st, b.stalled)
		}
	}
	assertRedacted(t, ns, password)
}

// assertRedacted fails if secret appears in a Sync's status, an event of
// ns or the controller's logs. (The spec holds it: the user put it there.)
func assertRedacted(t *testing.T, ns, secret string) {
	t.Helper()
	var syncs capstanv1.SyncList
	if err := env.admin.List(t.Context(), &syncs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, s := range syncs.Items {
		if data, _ := json.Marshal(s.Status); strings.Contains(string(data), secret) {
			t.Errorf("status of %s holds the password: %s", s.Name, data)
		}
	}
	var events corev1.EventList
	if err := env.admin.List(t.Context(), &events, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		if data, _ := json.Marshal(e); strings.Contains(string(data), secret) {
			t.Errorf("event %s holds the password: %s", e.Name, e.Message)
		}
	}
	if logs := env.logs.String(); strings.Contains(logs, secret) {
		i := strings.Index(logs, secret)
		t.Errorf("controller logs hold the password: …%s…", logs[max(0, i-300):min(len(logs), i+100)])
	}
}

// tarpit is a server that accepts connections and never answers, as a
// hostile or broken git host may.
type tarpit struct {
	url     string
	reached atomic.Bool
}

// newTarpit starts a tarpit; its connections are closed when the test ends.
func newTarpit(t *testing.T) *tarpit {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &tarpit{url: "http://" + ln.Addr().String() + "/hang.git"}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tp.reached.Store(true)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return tp
}
