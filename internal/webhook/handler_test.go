package webhook

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// fakeSyncs is one Sync on branch main with a token; it records requests.
type fakeSyncs struct {
	target Target
	token  []byte
	path   string

	mu        sync.Mutex
	requested int
}

func newFakeSyncs() *fakeSyncs {
	tok := []byte("s3cret-token")
	t := Target{Name: "apps", Namespace: "team", Branch: "main"}
	return &fakeSyncs{target: t, token: tok, path: capstanv1.WebhookPath(string(tok), t.Name, t.Namespace)}
}

func (f *fakeSyncs) Lookup(_ context.Context, path string) (Target, bool, error) {
	return f.target, path == f.path, nil
}

func (f *fakeSyncs) Token(context.Context, Target) ([]byte, error) { return f.token, nil }

func (f *fakeSyncs) RequestSync(context.Context, string, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requested++
	return nil
}

func githubPush(ref, after string) []byte {
	return []byte(`{"ref":"` + ref + `","before":"0000000000000000000000000000000000000000","after":"` + after + `","repository":{"full_name":"o/r"}}`)
}

// signed returns a request as host would send it for body, keyed with key.
func signed(host Sender, path string, body, key []byte, event string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	sig := hex.EncodeToString(Sign(body, key))
	switch host {
	case GitHub:
		r.Header.Set(GitHubEventHeader, event)
		r.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
		r.Header.Set(GitHubSignatureHeader, "sha256="+sig)
	case Gitea:
		r.Header.Set(GiteaEventHeader, event)
		r.Header.Set(GitHubEventHeader, event)
		r.Header.Set(GiteaSignatureHeader, sig)
	case Forgejo:
		r.Header.Set(ForgejoEventHeader, event)
		r.Header.Set(ForgejoSignatureHeader, sig)
	case GitLab:
		r.Header.Set(GitLabEventHeader, event)
		r.Header.Set(GitLabTokenHeader, string(key))
	case Generic:
		r.Header.Set(GenericSignatureHeader, "sha256="+sig)
	}
	return r
}

func TestHandler(t *testing.T) {
	t.Parallel()
	head := strings.Repeat("ab", 20)
	push := githubPush("refs/heads/main", head)
	tests := []struct {
		name    string
		req     func(f *fakeSyncs) *http.Request
		want    int
		request bool
	}{
		{name: "github push", req: func(f *fakeSyncs) *http.Request { return signed(GitHub, f.path, push, f.token, "push") }, want: 202, request: true},
		{name: "github ping", req: func(f *fakeSyncs) *http.Request {
			return signed(GitHub, f.path, []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`), f.token, "ping")
		}, want: 204},
		{name: "github other event", req: func(f *fakeSyncs) *http.Request { return signed(GitHub, f.path, push, f.token, "issues") }, want: 204},
		{name: "gitlab push", req: func(f *fakeSyncs) *http.Request { return signed(GitLab, f.path, push, f.token, "Push Hook") }, want: 202, request: true},
		{name: "gitlab merge request", req: func(f *fakeSyncs) *http.Request {
			return signed(GitLab, f.path, push, f.token, "Merge Request Hook")
		}, want: 204},
		{name: "gitea push", req: func(f *fakeSyncs) *http.Request { return signed(Gitea, f.path, push, f.token, "push") }, want: 202, request: true},
		{name: "forgejo push", req: func(f *fakeSyncs) *http.Request { return signed(Forgejo, f.path, push, f.token, "push") }, want: 202, request: true},
		{name: "generic without ref", req: func(f *fakeSyncs) *http.Request { return signed(Generic, f.path, []byte(`{}`), f.token, "") }, want: 202, request: true},
		{name: "wrong branch", req: func(f *fakeSyncs) *http.Request {
			return signed(GitHub, f.path, githubPush("refs/heads/dev", head), f.token, "push")
		}, want: 204},
		{name: "tag of the branch's name", req: func(f *fakeSyncs) *http.Request {
			return signed(GitHub, f.path, githubPush("refs/tags/main", head), f.token, "push")
		}, want: 204},
		{name: "bad github signature", req: func(f *fakeSyncs) *http.Request { return signed(GitHub, f.path, push, []byte("wrong"), "push") }, want: 401},
		{name: "bad gitlab token", req: func(f *fakeSyncs) *http.Request { return signed(GitLab, f.path, push, []byte("wrong"), "Push Hook") }, want: 401},
		{name: "bad gitea signature", req: func(f *fakeSyncs) *http.Request { return signed(Gitea, f.path, push, []byte("wrong"), "push") }, want: 401},
		{name: "no signature", req: func(f *fakeSyncs) *http.Request {
			r := signed(GitHub, f.path, push, f.token, "push")
			r.Header.Del(GitHubSignatureHeader)
			return r
		}, want: 401},
		{name: "signature of another body", req: func(f *fakeSyncs) *http.Request {
			r := signed(GitHub, f.path, githubPush("refs/heads/main", strings.Repeat("cd", 20)), f.token, "push")
			r.Body = httptestBody(push)
			return r
		}, want: 401},
		{name: "unknown path", req: func(f *fakeSyncs) *http.Request {
			return signed(GitHub, capstanv1.WebhookPath("other", "apps", "team"), push, f.token, "push")
		}, want: 404},
		{name: "get", req: func(f *fakeSyncs) *http.Request { return httptest.NewRequest(http.MethodGet, f.path, nil) }, want: 405},
		{name: "form encoded", req: func(f *fakeSyncs) *http.Request {
			r := signed(GitHub, f.path, push, f.token, "push")
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, want: 415},
		{name: "oversized", req: func(f *fakeSyncs) *http.Request {
			big := append(githubPush("refs/heads/main", head)[:10], bytes.Repeat([]byte(" "), 2<<20)...)
			return signed(GitHub, f.path, big, f.token, "push")
		}, want: 413},
		{name: "malformed", req: func(f *fakeSyncs) *http.Request { return signed(GitHub, f.path, []byte(`{"ref":`), f.token, "push") }, want: 400},
		{name: "short ref", req: func(f *fakeSyncs) *http.Request {
			return signed(GitHub, f.path, githubPush("main", head), f.token, "push")
		}, want: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeSyncs()
			h := NewHandler(f, DefaultLimits(), logr.Discard())
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req(f))
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d", rec.Code, tt.want)
			}
			if rec.Body.Len() != 0 {
				t.Errorf("response body %q, want none", rec.Body.String())
			}
			if got := f.requested > 0; got != tt.request {
				t.Errorf("sync requested = %t, want %t", got, tt.request)
			}
		})
	}
}

func httptestBody(b []byte) *readCloser { return &readCloser{bytes.NewReader(b)} }

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func TestHandlerRefusesReplay(t *testing.T) {
	t.Parallel()
	f := newFakeSyncs()
	h := NewHandler(f, DefaultLimits(), logr.Discard())
	body := githubPush("refs/heads/main", strings.Repeat("ab", 20))
	codes := []int{}
	for range 2 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signed(GitHub, f.path, body, f.token, "push"))
		codes = append(codes, rec.Code)
	}
	if codes[0] != http.StatusAccepted || codes[1] != http.StatusConflict || f.requested != 1 {
		t.Errorf("codes %v, %d requests; want [202 409] and one request", codes, f.requested)
	}
}

func TestHandlerRateLimitsPerPath(t *testing.T) {
	t.Parallel()
	f := newFakeSyncs()
	limits := DefaultLimits()
	limits.Rate, limits.Burst = 0.001, 3
	h := NewHandler(f, limits, logr.Discard())
	var got []int
	for i := range 5 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signed(GitHub, f.path, githubPush("refs/heads/main", strings.Repeat("0", 39)+string(rune('a'+i))), f.token, "push"))
		got = append(got, rec.Code)
	}
	want := []int{202, 202, 202, 429, 429}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("codes %v, want %v", got, want)
		}
	}
	// Another path has its own budget; an unknown one is refused before it
	// costs any.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signed(GitHub, "/hook/unknown", []byte(`{}`), f.token, "push"))
	if rec.Code != http.StatusNotFound {
		t.Errorf("unknown path: %d, want 404", rec.Code)
	}
}
