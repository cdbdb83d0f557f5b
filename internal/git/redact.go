package git

import (
	"net/url"
	"strings"
)

// redacted replaces secrets in URLs and error messages.
const redacted = "redacted"

// Redact returns raw with credentials removed, for logs, events, status and
// errors. A userinfo part that holds a password is replaced, as is any user
// name of a non-ssh URL (it is often a token); ssh user names without a
// password ("git@") are kept. Query values are replaced too. Input that does
// not parse as a URL is redacted conservatively: everything between "://"
// and the last "@" goes, and so does the query. Redact never panics.
func Redact(raw string) string {
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
			u.User = url.User(redacted)
		}
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		for k := range q {
			q[k] = []string{redacted}
		}
		u.RawQuery = q.Encode()
		if err != nil {
			u.RawQuery = redacted
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
	return redacted + "@" + rest
}

// redactOpaque handles strings with a scheme that do not parse as a URL.
func redactOpaque(scheme, rest string) string {
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = redacted + rest[i:]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i+1] + redacted
	}
	return scheme + "://" + rest
}
