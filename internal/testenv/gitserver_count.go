package testenv

import (
	"net/http"
	"strings"
	"sync"
)

// GitRequests counts what clients asked of one repository over HTTP(S).
type GitRequests struct {
	// Listings are ref advertisements for a fetch (GET info/refs of
	// git-upload-pack): one per ls-remote, clone or fetch.
	Listings int
	// Fetches are pack requests (POST git-upload-pack): one or more per
	// clone or fetch, none for a listing.
	Fetches int
}

// gitServerCounts counts requests per repository.
type gitServerCounts struct {
	mu   sync.Mutex
	reqs map[string]GitRequests
}

// count records r if it is a listing or a fetch of a repository.
func (c *gitServerCounts) count(r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	repo, kind := "", 0
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/info/refs") && r.URL.Query().Get("service") == "git-upload-pack":
		repo, kind = strings.TrimSuffix(p, "/info/refs"), 1
	case r.Method == http.MethodPost && strings.HasSuffix(p, "/git-upload-pack"):
		repo, kind = strings.TrimSuffix(p, "/git-upload-pack"), 2
	default:
		return
	}
	repo = strings.TrimSuffix(repo, ".git")
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reqs == nil {
		c.reqs = map[string]GitRequests{}
	}
	n := c.reqs[repo]
	if kind == 1 {
		n.Listings++
	} else {
		n.Fetches++
	}
	c.reqs[repo] = n
}

// Requests returns how many listings and fetches of repo the server has
// answered over HTTP(S) so far.
func (s *GitServer) Requests(repo string) GitRequests {
	s.counts.mu.Lock()
	defer s.counts.mu.Unlock()
	return s.counts.reqs[strings.TrimSuffix(repo, ".git")]
}
