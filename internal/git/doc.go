// Package git is the git client Capstan uses, in pure Go on top of go-git.
//
// The sync controller calls Resolve to learn cheaply, with one ref listing,
// which commit a Ref points at, and Clone to fetch a shallow checkout of that
// revision. capstan bootstrap calls OpenBranch to check out a branch of a
// possibly empty repository, writes files into the Worktree, commits them if
// anything changed and pushes, learning from ErrNonFastForward when somebody
// else pushed first.
//
// Remotes are validated once by ParseURL, which accepts https://, ssh:// and
// scp-like user@host:path addresses, allows plain http:// only to loopback
// hosts unless asked to, and refuses other schemes, credentials inside URLs
// and link-local or cloud metadata addresses. SSH host keys are always
// verified against Auth.KnownHosts; there is no fallback to the user's
// ~/.ssh/known_hosts and no way to skip verification. HTTPS certificates are
// always verified, against the system roots plus Auth.CABundle (a Secret's
// ca.crt, or caFile as older Flux Secrets name it); there is no way to skip
// that either.
//
// Every error is wrapped once with the operation and the redacted URL, never
// contains Auth.Password or Auth.BearerToken, and, when the cause is
// recognised, matches one of these kinds with errors.Is:
//
//   - ErrInvalidURL, ErrInvalidRef, ErrInvalidAuth, ErrAuthFailed,
//     ErrHostKeyMismatch and ErrTLS are terminal (IsTerminal): retrying with
//     the same URL, ref, Secret, known_hosts and CA bundle cannot succeed, so
//     a controller should stall until the object or its Secret changes.
//   - ErrUnreachable, ErrRepositoryNotFound and ErrRefNotFound are
//     transient: the network may recover and the repository, branch or tag
//     may be pushed later, so a controller should retry with backoff. So is
//     any error of no known kind, including context cancellation.
//   - ErrNonFastForward comes only from Worktree.Push: the branch moved since
//     it was opened; open it again, re-apply the change and push again.
package git
