package build

import (
	"maps"
	"net/url"
	"slices"
	"strings"
)

// isRemoteRef reports whether kustomize could treat a resources, bases or
// components entry as a git repository or a URL: isGitRef or isRemoteFile.
func isRemoteRef(ref string) bool {
	return isGitRef(ref) || isRemoteFile(ref)
}

// isGitRef reports whether kustomize's git reference parser could accept
// ref. It matches a superset of what that parser accepts: an optional
// "git::" then a scheme ("ssh://", "https://", any other), "user@" (as in
// git@github.com:org/repo) or "github.com/". Only the start of ref counts,
// so inline YAML is not matched by the URLs in it.
func isGitRef(ref string) bool {
	s := strings.ToLower(strings.TrimSpace(ref))
	s = strings.TrimPrefix(s, "git::")
	if scheme, _, ok := strings.Cut(s, "://"); ok && isScheme(scheme) {
		return true
	}
	return strings.HasPrefix(s, "github.com/") || strings.HasPrefix(s, "github.com:") || hasUserAt(s)
}

// isScheme reports whether s is a URL scheme: a letter, then letters,
// digits, '+', '-' or '.'.
func isScheme(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// isRemoteFile reports whether kustomize's file loader would fetch s (or,
// for generator file sources, the part after "key=") over HTTP.
func isRemoteFile(s string) bool {
	if strings.Contains(s, "://") {
		return true
	}
	for _, c := range []string{s, afterEquals(s)} {
		if u, err := url.Parse(strings.TrimSpace(c)); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			return true
		}
	}
	return false
}

// hasUserAt reports whether s starts with the "user@" that makes kustomize
// read a reference as an scp-style git URL (git@github.com:org/repo).
func hasUserAt(s string) bool {
	user, _, ok := strings.Cut(s, "@")
	if !ok || user == "" || !isLetter(user[0]) {
		return false
	}
	for i := 1; i < len(user); i++ {
		if c := user[i]; !isLetter(c) && !(c >= '0' && c <= '9') && c != '-' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func afterEquals(s string) string {
	_, after, _ := strings.Cut(s, "=")
	return after
}

// isInlineKey reports whether a key of a kustomization or builtin plugin
// configuration holds content rather than paths; strings under it are not
// scanned for URLs.
func isInlineKey(k string) bool {
	switch k {
	case "annotations", "buildMetadata", "commonAnnotations", "commonLabels",
		"images", "labels", "literals", "metadata", "namePrefix", "nameSuffix",
		"namespace", "patch", "replicas", "sortOptions", "source", "targets", "vars":
		return true
	}
	return false
}

// findRemote returns the first string in v, outside inlineKeys, that
// kustomize's file loader would fetch over the network. Multi-line strings
// are inline content, which the loader never fetches.
func findRemote(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		if !strings.Contains(t, "\n") && isRemoteFile(t) {
			return t, true
		}
	case []any:
		for _, e := range t {
			if s, ok := findRemote(e); ok {
				return s, true
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			if isInlineKey(k) {
				continue
			}
			if s, ok := findRemote(t[k]); ok {
				return s, true
			}
		}
	}
	return "", false
}
