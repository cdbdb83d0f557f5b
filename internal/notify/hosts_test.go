package notify

import (
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/webhook"
)

// fakeHosts is a loopback server that checks requests the way GitHub,
// GitLab, Gitea, Slack and a generic HMAC receiver do, and records what
// each accepted.
type fakeHosts struct {
	*httptest.Server
	token string

	mu       sync.Mutex
	statuses map[string][]string // host -> "sha state context description"
	alerts   map[string][]string // slack|generic -> text
	failNext int                 // answer this many requests with 503 first
}

func newFakeHosts(t *testing.T, token string) *fakeHosts {
	f := &fakeHosts{token: token, statuses: map[string][]string{}, alerts: map[string][]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeHosts) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failNext > 0 {
		f.failNext--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var m map[string]any
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &m) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	path := r.URL.EscapedPath()
	str := func(k string) string { s, _ := m[k].(string); return s }
	record := func(host, sha, state, ctx string, states ...string) {
		ok := false
		for _, s := range states {
			ok = ok || s == state
		}
		if !ok || ctx == "" || len(str("description")) > 140 {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		f.statuses[host] = append(f.statuses[host], sha+" "+state+" "+ctx+" "+str("description"))
		w.WriteHeader(http.StatusCreated)
	}
	switch {
	case strings.HasPrefix(path, "/github/repos/"):
		// GitHub: Bearer token, its media type and API version.
		if r.Header.Get("Authorization") != "Bearer "+f.token || r.Header.Get("Accept") != "application/vnd.github+json" || r.Header.Get("X-GitHub-Api-Version") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		rest := strings.TrimPrefix(path, "/github/repos/team/config/statuses/")
		record("github", rest, str("state"), str("context"), "error", "failure", "pending", "success")
	case strings.HasPrefix(path, "/gitlab/api/v4/projects/"):
		// GitLab: PRIVATE-TOKEN, the project path URL-encoded in one segment.
		if r.Header.Get("PRIVATE-TOKEN") != f.token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		rest, ok := strings.CutPrefix(path, "/gitlab/api/v4/projects/"+url.PathEscape("team/config")+"/statuses/")
		if !ok || !strings.Contains(path, "%2F") {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		record("gitlab", rest, str("state"), str("name"), "pending", "running", "success", "failed", "canceled")
	case strings.HasPrefix(path, "/gitea/api/v1/repos/"):
		// Gitea and Forgejo: "token" authorization.
		if r.Header.Get("Authorization") != "token "+f.token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		rest := strings.TrimPrefix(path, "/gitea/api/v1/repos/team/config/statuses/")
		record("gitea", rest, str("state"), str("context"), "pending", "success", "error", "failure", "warning")
	case path == "/slack":
		f.alerts["slack"] = append(f.alerts["slack"], str("text"))
		w.WriteHeader(http.StatusOK)
	case path == "/generic":
		sig, _ := strings.CutPrefix(r.Header.Get(webhook.GenericSignatureHeader), "sha256=")
		got, err := hex.DecodeString(sig)
		if err != nil || !hmac.Equal(got, webhook.Sign(body, []byte(f.token))) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f.alerts["generic"] = append(f.alerts["generic"], str("message"))
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// Targets returns one target of each type on f.
func (f *fakeHosts) Targets() []Target {
	return []Target{
		{Type: capstanv1.NotifyGitHub, URL: f.URL + "/github", Token: f.token},
		{Type: capstanv1.NotifyGitLab, URL: f.URL + "/gitlab", Token: f.token},
		{Type: capstanv1.NotifyGitea, URL: f.URL + "/gitea", Token: f.token},
		{Type: capstanv1.NotifySlack, URL: f.URL + "/slack"},
		{Type: capstanv1.NotifyGeneric, URL: f.URL + "/generic", Token: f.token},
	}
}

// Statuses returns what host recorded.
func (f *fakeHosts) Statuses(host string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.statuses[host]...)
}

// Alerts returns what an alert receiver recorded.
func (f *fakeHosts) Alerts(kind string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.alerts[kind]...)
}
