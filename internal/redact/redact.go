// Package redact removes credentials from URLs before anything formats them:
// the one redaction every log line, event, status, error and report uses.
package redact

import (
	"net/url"
	"strings"
)

// Mark replaces secrets in URLs and messages.
const Mark = "redacted"

// URL returns raw with credentials removed, for logs, events, status and
// errors. A userinfo part that holds a password is replaced, as is any user
// name of a non-ssh URL (it is often a token); ssh user names without a
// password ("git@") are kept. Query values are replaced too. Input that does
// not parse as a URL is redacted conservatively: everything between "://"
// and the last "@" goes, and so does the query. URL never panics.
func URL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return redactSCP(raw)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return redactOpaque(scheme, rest)
	}
	if u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword || !strings.EqualFold(u.Scheme, "ssh") {
			u.User = url.User(Mark)
		}
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		for k := range q {
			q[k] = []string{Mark}
		}
		u.RawQuery = q.Encode()
		if err != nil {
			u.RawQuery = Mark
		}
	}
	return u.String()
}

// redactSCP handles user:password@host:path, which is not a URL.
func redactSCP(raw string) string {
	user, rest, ok := strings.Cut(raw, "@")
	if !ok || !strings.Contains(user, ":") {
		return raw
	}
	return Mark + "@" + rest
}

// redactOpaque handles strings with a scheme that do not parse as a URL.
func redactOpaque(scheme, rest string) string {
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = Mark + rest[i:]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i+1] + Mark
	}
	return scheme + "://" + rest
}

// Secrets returns msg with every occurrence of each secret, plain or
// URL-escaped, replaced by Mark. Empty secrets are ignored.
func Secrets(msg string, secrets ...string) string {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			msg = strings.ReplaceAll(msg, form, Mark)
		}
	}
	return msg
}
