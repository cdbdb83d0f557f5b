package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Kind is what a verified request asks for.
type Kind int

// Kinds of events.
const (
	// Ignored events are valid but ask for nothing (an issue comment, a
	// merge request).
	Ignored Kind = iota
	// Ping is a host's test delivery.
	Ping
	// Push moved a ref.
	Push
)

// Event is a parsed delivery.
type Event struct {
	Kind Kind
	// Ref is the full ref a push moved ("refs/heads/main",
	// "refs/tags/v1"); empty from a generic sender means any ref.
	Ref string
	// After is the commit the ref points at after the push, when sent.
	After string
}

// ErrMalformed is a payload that does not parse.
var ErrMalformed = errors.New("malformed webhook payload")

// maxRefLength bounds the refs taken from a payload.
const maxRefLength = 1024

// pushPayload holds the fields every supported host sends on a push.
type pushPayload struct {
	Ref   *string `json:"ref"`
	After string  `json:"after"`
}

// Parse reads the event of a verified delivery from sender.
func Parse(sender Sender, h http.Header, body []byte) (Event, error) {
	switch kind := eventKind(sender, h); kind {
	case Ping:
		return Event{Kind: Ping}, nil
	case Ignored:
		return Event{Kind: Ignored}, nil
	}
	var p pushPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	ev := Event{Kind: Push, After: p.After}
	if p.Ref == nil {
		if sender != Generic {
			return Event{}, fmt.Errorf("%w: push without a ref", ErrMalformed)
		}
		return ev, nil
	}
	ref := *p.Ref
	if len(ref) > maxRefLength || !strings.HasPrefix(ref, "refs/") {
		return Event{}, fmt.Errorf("%w: ref is not a full ref name", ErrMalformed)
	}
	ev.Ref = ref
	return ev, nil
}

// eventKind maps a sender's event header to a kind.
func eventKind(sender Sender, h http.Header) Kind {
	switch sender {
	case GitHub:
		return githubKind(h.Get(GitHubEventHeader))
	case Gitea:
		return githubKind(h.Get(GiteaEventHeader))
	case Forgejo:
		return githubKind(h.Get(ForgejoEventHeader))
	case GitLab:
		switch h.Get(GitLabEventHeader) {
		case "Push Hook", "Tag Push Hook":
			return Push
		}
		return Ignored
	}
	return Push
}

func githubKind(event string) Kind {
	switch event {
	case "push":
		return Push
	case "ping":
		return Ping
	}
	return Ignored
}

// Matches reports whether a push to the full ref pushed concerns a Sync
// that follows branch or tag (at most one of which is set). A Sync pinned
// to a commit follows no ref; an empty pushed ref concerns every Sync.
func Matches(pushed, branch, tag string) bool {
	switch {
	case branch == "" && tag == "":
		return false
	case pushed == "":
		return true
	case branch != "":
		return pushed == "refs/heads/"+branch
	}
	return pushed == "refs/tags/"+tag
}
