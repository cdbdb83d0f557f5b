package testenv

import (
	"testing"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
)

func TestGitServerCountsListingsAndFetches(t *testing.T) {
	t.Parallel()
	srv := NewGitServer(t)
	srv.InitRepo(t, "org/counted")
	srv.Commit(t, "org/counted", "main", map[string]string{"a.txt": "a"}, "a")
	auth := &githttp.BasicAuth{Username: srv.Username(), Password: srv.Password()}
	remote := gogit.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{srv.HTTPURL("org/counted")}})
	for range 3 {
		if _, err := remote.ListContext(t.Context(), &gogit.ListOptions{Auth: auth}); err != nil {
			t.Fatalf("listing: %v", err)
		}
	}
	if got := srv.Requests("org/counted"); got != (GitRequests{Listings: 3}) {
		t.Fatalf("after 3 listings: %+v, want 3 listings and no fetch", got)
	}
	if _, err := gogit.CloneContext(t.Context(), memory.NewStorage(), nil, &gogit.CloneOptions{URL: srv.HTTPURL("org/counted"), Auth: auth, Depth: 1}); err != nil {
		t.Fatalf("clone: %v", err)
	}
	got := srv.Requests("org/counted")
	if got.Listings != 4 || got.Fetches < 1 {
		t.Errorf("after a clone: %+v, want 4 listings and at least one fetch", got)
	}
	if other := srv.Requests("other"); other != (GitRequests{}) {
		t.Errorf("another repository counted %+v", other)
	}
}
