// Package webhook receives push notifications from git hosts (GitHub,
// GitLab, Gitea, Forgejo and a generic HMAC sender) and turns a verified push
// to a Sync's branch or tag into a sync request. Verification and payload
// parsing are pure; Handler adds the HTTP edge: a body cap, a per-path rate
// limit, replay refusal, and refusals that carry only a status code.
package webhook
