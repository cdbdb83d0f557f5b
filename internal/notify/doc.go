// Package notify tells git hosts and chat what a Sync did: commit statuses
// through the GitHub, GitLab and Gitea/Forgejo APIs, and alerts to
// Slack-compatible or generic JSON webhooks. Building a request is pure
// (Build); Notifier sends them in the background with retries, never
// blocking a reconcile, and sends each state change once.
package notify
