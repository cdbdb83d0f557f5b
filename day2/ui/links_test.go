package ui

import "testing"

func TestCommitURL(t *testing.T) {
	t.Parallel()
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name, url, rev, want string
	}{
		{"github https", "https://github.com/org/fleet.git", "main@sha1:" + sha, "https://github.com/org/fleet/commit/" + sha},
		{"github scp", "git@github.com:org/fleet.git", "main@sha1:" + sha, "https://github.com/org/fleet/commit/" + sha},
		{"github ssh with user and port", "ssh://git@github.com:22/org/fleet", "v1@sha1:" + sha, "https://github.com/org/fleet/commit/" + sha},
		{"gitlab subgroup", "https://gitlab.com/a/b/fleet.git", "main@sha1:" + sha, "https://gitlab.com/a/b/fleet/-/commit/" + sha},
		{"self-hosted gitlab", "https://gitlab.example.com/a/fleet", "main@sha1:" + sha, "https://gitlab.example.com/a/fleet/-/commit/" + sha},
		{"gitea", "https://gitea.com/a/fleet.git", "main@sha1:" + sha, "https://gitea.com/a/fleet/commit/" + sha},
		{"codeberg", "https://codeberg.org/a/fleet.git", "main@sha1:" + sha, "https://codeberg.org/a/fleet/commit/" + sha},
		{"password never kept", "https://user:s3cret@github.com/org/fleet.git", "main@sha1:" + sha, "https://github.com/org/fleet/commit/" + sha},
		{"unknown host", "https://git.example.com/org/fleet.git", "main@sha1:" + sha, ""},
		{"no revision", "https://github.com/org/fleet.git", "", ""},
		{"not hex", "https://github.com/org/fleet.git", "main@sha1:<script>", ""},
		{"file url", "file:///srv/fleet", "main@sha1:" + sha, ""},
		{"no path", "https://github.com/", "main@sha1:" + sha, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := CommitURL(tt.url, tt.rev); got != tt.want {
				t.Errorf("CommitURL(%q, %q) = %q, want %q", tt.url, tt.rev, got, tt.want)
			}
		})
	}
}
