package notify

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/webhook"
)

// State is a Sync's result for a revision.
type State string

// States, and the spec.notify event each one is.
const (
	// Applying: the revision is being applied (event "applied").
	Applying State = "applying"
	// Healthy: applied and ready (event "healthy").
	Healthy State = "healthy"
	// Failed: not fetched, built or applied (event "failed").
	Failed State = "failed"
	// Unhealthy: applied, but not ready (event "unhealthy").
	Unhealthy State = "unhealthy"
)

// Event returns the spec.notify event of s.
func (s State) Event() capstanv1.NotifyEvent {
	switch s {
	case Applying:
		return capstanv1.EventApplied
	case Healthy:
		return capstanv1.EventHealthy
	case Failed:
		return capstanv1.EventFailed
	}
	return capstanv1.EventUnhealthy
}

// Event is what happened to one Sync at one revision.
type Event struct {
	// Namespace and Name of the Sync.
	Namespace, Name string
	// RepoURL is the Sync's spec.url.
	RepoURL string
	// Revision is "<ref>@sha1:<hex>".
	Revision string
	State    State
	// Message says why a revision failed; it must hold no secret.
	Message string
}

// Target is one spec.notify entry with its Secret read.
type Target struct {
	Type capstanv1.NotifyType
	// URL is the API base or, for slack and generic, the address.
	URL string
	// Token is the API token, or the HMAC key of a generic receiver.
	Token string
	// Events to send; empty means all.
	Events []capstanv1.NotifyEvent
}

// Request is an HTTP request to send.
type Request struct {
	Method, URL string
	Header      http.Header
	Body        []byte
}

// maxDescription bounds a commit status description (GitHub's limit).
const maxDescription = 140

// Context is the commit status context of a Sync: capstan/<ns>/<name>.
func Context(namespace, name string) string { return "capstan/" + namespace + "/" + name }

// IsAlert reports whether t posts alerts rather than commit statuses.
func IsAlert(t capstanv1.NotifyType) bool {
	return t == capstanv1.NotifySlack || t == capstanv1.NotifyGeneric
}

// Build returns the request that tells t about ev, or an error that names
// what is missing. recovered marks a healthy event after a failure (alerts
// say so).
func Build(t Target, ev Event, recovered bool) (Request, error) {
	if IsAlert(t.Type) {
		return buildAlert(t, ev, recovered)
	}
	sha, ok := strings.CutPrefix(ev.Revision[strings.LastIndex(ev.Revision, "@")+1:], "sha1:")
	if !ok || len(sha) != 40 {
		return Request{}, fmt.Errorf("revision %q names no commit", ev.Revision)
	}
	if t.Token == "" {
		return Request{}, errors.New("the secret has no token")
	}
	owner, repo, err := repoPath(ev.RepoURL)
	if err != nil {
		return Request{}, err
	}
	desc := description(ev)
	h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"capstan"}}
	var u string
	var body map[string]string
	switch t.Type {
	case capstanv1.NotifyGitHub:
		u = base(t.URL, "https://api.github.com") + "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/statuses/" + sha
		h.Set("Accept", "application/vnd.github+json")
		h.Set("X-GitHub-Api-Version", "2022-11-28")
		h.Set("Authorization", "Bearer "+t.Token)
		body = map[string]string{"state": githubState(ev.State), "context": Context(ev.Namespace, ev.Name), "description": desc}
	case capstanv1.NotifyGitLab:
		u = base(t.URL, "https://gitlab.com") + "/api/v4/projects/" + url.PathEscape(owner+"/"+repo) + "/statuses/" + sha
		h.Set("PRIVATE-TOKEN", t.Token)
		body = map[string]string{"state": gitlabState(ev.State), "name": Context(ev.Namespace, ev.Name), "description": desc}
	case capstanv1.NotifyGitea:
		if t.URL == "" {
			return Request{}, errors.New("gitea needs url, the address of the server")
		}
		u = base(t.URL, "") + "/api/v1/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/statuses/" + sha
		h.Set("Authorization", "token "+t.Token)
		body = map[string]string{"state": githubState(ev.State), "context": Context(ev.Namespace, ev.Name), "description": desc}
	default:
		return Request{}, fmt.Errorf("unknown notification type %q", t.Type)
	}
	data, err := json.Marshal(body)
	if err != nil {
		return Request{}, fmt.Errorf("encoding commit status: %w", err)
	}
	return Request{Method: http.MethodPost, URL: u, Header: h, Body: data}, nil
}

func base(u, def string) string {
	if u == "" {
		u = def
	}
	return strings.TrimRight(u, "/")
}

// githubState is the state of GitHub's and Gitea's status API.
func githubState(s State) string {
	switch s {
	case Applying:
		return "pending"
	case Healthy:
		return "success"
	}
	return "failure"
}

// gitlabState is the state of GitLab's status API.
func gitlabState(s State) string {
	switch s {
	case Applying:
		return "running"
	case Healthy:
		return "success"
	}
	return "failed"
}

// description is a short status line: the root cause of a failure.
func description(ev Event) string {
	d := ""
	switch ev.State {
	case Applying:
		d = "applying"
	case Healthy:
		d = "applied and healthy"
	default:
		d = ev.Message
		if d == "" {
			d = string(ev.State)
		}
	}
	if len(d) > maxDescription {
		d = d[:maxDescription-3] + "..."
	}
	return d
}

// buildAlert is a message to a Slack-compatible or generic webhook.
func buildAlert(t Target, ev Event, recovered bool) (Request, error) {
	if t.URL == "" {
		return Request{}, errors.New("the alert has no address (url, or the secret's key address)")
	}
	sync := ev.Namespace + "/" + ev.Name
	text := fmt.Sprintf("Sync %s failed at %s: %s", sync, ev.Revision, ev.Message)
	if ev.State == Healthy {
		text = fmt.Sprintf("Sync %s is healthy again at %s", sync, ev.Revision)
	}
	h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"capstan"}}
	var payload any = map[string]string{"text": text}
	if t.Type == capstanv1.NotifyGeneric {
		payload = map[string]any{"sync": sync, "revision": ev.Revision, "state": string(ev.State), "recovered": recovered, "message": text}
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return Request{}, fmt.Errorf("encoding alert: %w", err)
	}
	if t.Type == capstanv1.NotifyGeneric && t.Token != "" {
		h.Set(webhook.GenericSignatureHeader, "sha256="+hex.EncodeToString(webhook.Sign(data, []byte(t.Token))))
	}
	return Request{Method: http.MethodPost, URL: t.URL, Header: h, Body: data}, nil
}

// repoPath returns the owner (a group path on GitLab) and the repository
// name of a git URL.
func repoPath(raw string) (string, string, error) {
	p := raw
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" {
		p = u.Path
	} else if _, after, ok := strings.Cut(raw, ":"); ok && !strings.Contains(raw, "://") {
		p = after // user@host:owner/repo
	}
	p = strings.TrimSuffix(strings.Trim(p, "/"), ".git")
	i := strings.LastIndex(p, "/")
	if i <= 0 || i == len(p)-1 {
		return "", "", fmt.Errorf("cannot tell owner and repository from %q", redactURL(raw))
	}
	return p[:i], p[i+1:], nil
}

// redactURL drops userinfo from a URL shown in an error.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return raw
}

// reader returns a fresh body for each attempt.
func (r Request) reader() *bytes.Reader { return bytes.NewReader(r.Body) }
