package ui

import (
	"net/url"
	"strings"
)

// CommitURL returns the web page of the commit of revision ("main@sha1:<hex>")
// in the repository at repoURL, for hosts whose commit pages are known:
// GitHub, GitLab and Gitea (and Codeberg, which runs Forgejo, Gitea's fork).
// It returns "" for any other host, or a revision without a hash.
func CommitURL(repoURL, revision string) string {
	i := strings.LastIndex(revision, ":")
	if i < 0 {
		return ""
	}
	sha := revision[i+1:]
	if len(sha) < 7 || strings.Trim(sha, "0123456789abcdef") != "" {
		return ""
	}
	host, path := webLocation(repoURL)
	if host == "" || path == "" {
		return ""
	}
	base := "https://" + host + "/" + path
	switch {
	case host == "github.com":
		return base + "/commit/" + sha
	case host == "gitlab.com" || strings.HasPrefix(host, "gitlab."):
		return base + "/-/commit/" + sha
	case host == "gitea.com" || host == "codeberg.org" || strings.HasPrefix(host, "gitea."):
		return base + "/commit/" + sha
	}
	return ""
}

// webLocation returns the host (without port or user) and the repository
// path (without ".git") of a git URL in URL or scp form.
func webLocation(raw string) (host, path string) {
	if !strings.Contains(raw, "://") {
		at := strings.Index(raw, "@")
		colon := strings.Index(raw, ":")
		if colon < 0 || colon < at {
			return "", ""
		}
		host, path = raw[at+1:colon], raw[colon+1:]
	} else {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "ssh") {
			return "", ""
		}
		host, path = u.Hostname(), u.Path
	}
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	if strings.ContainsAny(path, "?#") || strings.Contains(path, "..") {
		return "", ""
	}
	return strings.ToLower(host), path
}
