package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
)

// Sender is the kind of host that sent a request, told by its headers.
type Sender string

// Senders the receiver understands.
const (
	GitHub  Sender = "github"
	GitLab  Sender = "gitlab"
	Gitea   Sender = "gitea"
	Forgejo Sender = "forgejo"
	Generic Sender = "generic"
)

// Headers the receiver reads.
const (
	GitHubEventHeader      = "X-GitHub-Event"
	GitHubSignatureHeader  = "X-Hub-Signature-256"
	GitLabEventHeader      = "X-Gitlab-Event"
	GitLabTokenHeader      = "X-Gitlab-Token"
	GiteaEventHeader       = "X-Gitea-Event"
	GiteaSignatureHeader   = "X-Gitea-Signature"
	ForgejoEventHeader     = "X-Forgejo-Event"
	ForgejoSignatureHeader = "X-Forgejo-Signature"
	// GenericSignatureHeader carries "sha256=<hex HMAC-SHA256 of the body>"
	// from any other sender.
	GenericSignatureHeader = "X-Capstan-Signature"
)

// ErrUnauthenticated is a request whose signature or token does not match.
var ErrUnauthenticated = errors.New("webhook signature or token does not match")

// Detect tells the sender from the request headers. Gitea and Forgejo are
// checked first: they also send GitHub's headers.
func Detect(h http.Header) Sender {
	switch {
	case h.Get(ForgejoSignatureHeader) != "" || h.Get(ForgejoEventHeader) != "":
		return Forgejo
	case h.Get(GiteaSignatureHeader) != "" || h.Get(GiteaEventHeader) != "":
		return Gitea
	case h.Get(GitHubEventHeader) != "":
		return GitHub
	case h.Get(GitLabEventHeader) != "" || h.Get(GitLabTokenHeader) != "":
		return GitLab
	}
	return Generic
}

// Verify checks that the request was sent by someone who holds token: an
// HMAC-SHA256 of body for GitHub, Gitea, Forgejo and generic senders, the
// token itself for GitLab. Every comparison takes constant time.
func Verify(sender Sender, h http.Header, body, token []byte) error {
	if len(token) == 0 {
		return ErrUnauthenticated
	}
	var got string
	switch sender {
	case GitLab:
		if subtle.ConstantTimeCompare([]byte(h.Get(GitLabTokenHeader)), token) != 1 {
			return ErrUnauthenticated
		}
		return nil
	case GitHub:
		got, _ = strings.CutPrefix(h.Get(GitHubSignatureHeader), "sha256=")
	case Gitea:
		got = h.Get(GiteaSignatureHeader)
	case Forgejo:
		got = h.Get(ForgejoSignatureHeader)
	default:
		got, _ = strings.CutPrefix(h.Get(GenericSignatureHeader), "sha256=")
	}
	sig, err := hex.DecodeString(got)
	if err != nil || len(sig) != sha256.Size {
		return ErrUnauthenticated
	}
	if !hmac.Equal(sig, Sign(body, token)) {
		return ErrUnauthenticated
	}
	return nil
}

// Sign returns the HMAC-SHA256 of body keyed with token.
func Sign(body, token []byte) []byte {
	m := hmac.New(sha256.New, token)
	m.Write(body)
	return m.Sum(nil)
}
