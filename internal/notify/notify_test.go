package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/wait"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

func rev(c byte) string { return "main@sha1:" + strings.Repeat(string(c), 40) }

func TestRepoPath(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, owner, repo string }{
		{"https://github.com/o/r.git", "o", "r"},
		{"https://user:pw@gitlab.com/group/sub/app", "group/sub", "app"},
		{"ssh://git@github.com/o/r.git", "o", "r"},
		{"git@github.com:o/r.git", "o", "r"},
		{"http://127.0.0.1:3000/team/config.git", "team", "config"},
		{"https://github.com/only", "", ""},
	}
	for _, tt := range tests {
		owner, repo, err := repoPath(tt.url)
		if tt.owner == "" {
			if err == nil || strings.Contains(err.Error(), "pw") {
				t.Errorf("repoPath(%q) = %q, %q, %v; want an error without the password", tt.url, owner, repo, err)
			}
			continue
		}
		if err != nil || owner != tt.owner || repo != tt.repo {
			t.Errorf("repoPath(%q) = %q, %q, %v; want %q, %q", tt.url, owner, repo, err, tt.owner, tt.repo)
		}
	}
}

func TestBuild(t *testing.T) {
	t.Parallel()
	ev := Event{Namespace: "ns", Name: "apps", RepoURL: "https://github.com/team/config.git", Revision: rev('a'), State: Unhealthy,
		Message: "Deployment web/app: " + strings.Repeat("x", 300)}
	tests := []struct {
		name    string
		target  Target
		url     string
		header  [2]string
		body    string
		wantErr string
	}{
		{name: "github", target: Target{Type: capstanv1.NotifyGitHub, Token: "t"}, url: "https://api.github.com/repos/team/config/statuses/" + strings.Repeat("a", 40),
			header: [2]string{"Authorization", "Bearer t"}, body: `"context":"capstan/ns/apps"`},
		{name: "gitlab", target: Target{Type: capstanv1.NotifyGitLab, URL: "https://gl.example/", Token: "t"}, url: "https://gl.example/api/v4/projects/team%2Fconfig/statuses/" + strings.Repeat("a", 40),
			header: [2]string{"PRIVATE-TOKEN", "t"}, body: `"state":"failed"`},
		{name: "gitea", target: Target{Type: capstanv1.NotifyGitea, URL: "https://gitea.example", Token: "t"}, url: "https://gitea.example/api/v1/repos/team/config/statuses/" + strings.Repeat("a", 40),
			header: [2]string{"Authorization", "token t"}, body: `"state":"failure"`},
		{name: "gitea needs a url", target: Target{Type: capstanv1.NotifyGitea, Token: "t"}, wantErr: "needs url"},
		{name: "status needs a token", target: Target{Type: capstanv1.NotifyGitHub}, wantErr: "no token"},
		{name: "slack", target: Target{Type: capstanv1.NotifySlack, URL: "https://hooks.example/x"}, url: "https://hooks.example/x", body: `"text":"Sync ns/apps failed at`},
		{name: "alert needs an address", target: Target{Type: capstanv1.NotifySlack}, wantErr: "no address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := Build(tt.target, ev, false)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Build error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.URL != tt.url || req.Method != http.MethodPost {
				t.Errorf("request %s %s, want POST %s", req.Method, req.URL, tt.url)
			}
			if tt.header[0] != "" && req.Header.Get(tt.header[0]) != tt.header[1] {
				t.Errorf("header %s = %q, want %q", tt.header[0], req.Header.Get(tt.header[0]), tt.header[1])
			}
			if !strings.Contains(string(req.Body), tt.body) {
				t.Errorf("body %s does not contain %s", req.Body, tt.body)
			}
		})
	}
}

// TestNotifierAgainstHosts sends a good revision, a failing one (twice, as
// a retry would) and its fix to every kind of host through one loopback
// server that checks requests as each host does, after a 503.
func TestNotifierAgainstHosts(t *testing.T) {
	t.Parallel()
	f := newFakeHosts(t, "api-token")
	f.failNext = 1
	n := NewNotifier(http.DefaultClient, []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}, logr.Discard())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = n.Start(ctx) }()

	ev := Event{Namespace: "ns", Name: "apps", RepoURL: "http://127.0.0.1/team/config.git"}
	steps := []struct {
		rev   string
		state State
		msg   string
	}{
		{rev('a'), Applying, ""}, {rev('a'), Healthy, ""},
		{rev('b'), Applying, ""}, {rev('b'), Unhealthy, "Deployment web/app: ImagePullBackOff"}, {rev('b'), Unhealthy, "Deployment web/app: ImagePullBackOff"},
		{rev('c'), Applying, ""}, {rev('c'), Healthy, ""}, {rev('c'), Healthy, ""},
	}
	for _, s := range steps {
		e := ev
		e.Revision, e.State, e.Message = s.rev, s.state, s.msg
		n.Notify("uid", f.Targets(), e)
		// Statuses of one revision are ordered by the host by time; wait
		// for each to land so that the order is checked too.
		time.Sleep(100 * time.Millisecond)
	}
	a, b, c := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	want := map[string][]string{
		"github": {a + " pending", a + " success", b + " pending", b + " failure", c + " pending", c + " success"},
		"gitlab": {a + " running", a + " success", b + " running", b + " failed", c + " running", c + " success"},
		"gitea":  {a + " pending", a + " success", b + " pending", b + " failure", c + " pending", c + " success"},
	}
	err := wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		return len(f.Statuses("gitea")) >= 6 && len(f.Alerts("generic")) >= 2, nil
	})
	if err != nil {
		t.Logf("waiting for notifications: %v", err)
	}
	for host, w := range want {
		got := f.Statuses(host)
		if len(got) != len(w) {
			t.Errorf("%s got %d statuses, want %d:\n%s", host, len(got), len(w), strings.Join(got, "\n"))
			continue
		}
		for i := range w {
			if !strings.HasPrefix(got[i], w[i]+" capstan/ns/apps ") {
				t.Errorf("%s status %d = %q, want %q capstan/ns/apps ...", host, i, got[i], w[i])
			}
		}
		if !strings.HasSuffix(got[3], "Deployment web/app: ImagePullBackOff") {
			t.Errorf("%s failure says %q, want the root cause", host, got[3])
		}
	}
	for _, kind := range []string{"slack", "generic"} {
		got := f.Alerts(kind)
		if len(got) != 2 || !strings.Contains(got[0], "failed at "+rev('b')+": Deployment web/app: ImagePullBackOff") || !strings.Contains(got[1], "healthy again at "+rev('c')) {
			t.Errorf("%s alerts = %q, want one failure and one recovery", kind, got)
		}
	}
}

func TestNotifyNeverBlocks(t *testing.T) {
	t.Parallel()
	// No workers run: the queue fills and Notify keeps returning.
	n := NewNotifier(http.DefaultClient, nil, logr.Discard())
	target := []Target{{Type: capstanv1.NotifySlack, URL: "http://127.0.0.1:1/x"}}
	done := make(chan struct{})
	go func() {
		for i := range 1000 {
			n.Notify(fmt.Sprint(i), target, Event{Revision: rev('a'), State: Failed})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Notify blocked with a full queue")
	}
}
