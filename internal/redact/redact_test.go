package redact

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want string
	}{
		{"https://github.com/org/repo.git", "https://github.com/org/repo.git"},
		{"https://user:s3cret@github.com/org/repo.git", "https://redacted@github.com/org/repo.git"},
		{"https://ghp_token@github.com/org/repo.git", "https://redacted@github.com/org/repo.git"},
		{"ssh://git@github.com/org/repo.git", "ssh://git@github.com/org/repo.git"},
		{"ssh://git:s3cret@github.com/org/repo.git", "ssh://redacted@github.com/org/repo.git"},
		{"git@github.com:org/repo.git", "git@github.com:org/repo.git"},
		{"git:s3cret@github.com:org/repo.git", "redacted@github.com:org/repo.git"},
		{"https://github.com/org/repo.git?access_token=s3cret", "https://github.com/org/repo.git?access_token=redacted"},
		{"https://us er:s3cret@host/%zz", "https://redacted@host/%zz"},
		{"https://user:s3cret@host/x?token=%zz", "https://redacted@host/x?redacted"},
		{"not a url", "not a url"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			if got := URL(tt.raw); got != tt.want {
				t.Errorf("URL(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func FuzzRedact(f *testing.F) {
	f.Add(uint8(0), "user", "s3cret-password", "github.com", "/org/repo.git", "")
	f.Add(uint8(1), "", "p@ss:w/rd?#", "host:8080", "/a@b", "token=x")
	f.Add(uint8(2), "git", "pa%2Fss", "[::1]:22", "/r", "")
	f.Fuzz(func(t *testing.T, scheme uint8, user, pass, host, path, query string) {
		u := &url.URL{
			Scheme:   []string{"https", "http", "ssh"}[int(scheme)%3],
			User:     url.UserPassword(user, pass),
			Host:     host,
			Path:     path,
			RawQuery: query,
		}
		raw := u.String()
		got := URL(raw)
		_ = URL(user + ":" + pass + "@" + host + ":" + path) // scp-like: must not panic
		_ = URL(pass)

		// Assert only where the password is recognisable: long enough, and
		// not also part of what remains once the userinfo is gone.
		rest := strings.Replace(raw, u.User.String()+"@", "", 1)
		forms := []string{pass, url.QueryEscape(pass), url.PathEscape(pass), u.User.String()}
		for _, form := range forms {
			if len(pass) < 4 || strings.Contains(rest, form) || strings.Contains(Mark, form) {
				return
			}
		}
		for _, form := range forms {
			if strings.Contains(got, form) {
				t.Fatalf("URL(%q) = %q still contains %q", raw, got, form)
			}
		}
	})
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, msg string
		secrets   []string
		want      string
	}{
		{"plain", "auth failed for p4ss", []string{"p4ss"}, "auth failed for redacted"},
		{"escaped", "GET /x?t=a%2Fb failed, path a%2Fb", []string{"a/b"}, "GET /x?t=redacted failed, path redacted"},
		{"empty secret ignored", "nothing here", []string{""}, "nothing here"},
		{"several", "u1 and s3", []string{"u1", "s3"}, "redacted and redacted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Secrets(tt.msg, tt.secrets...); got != tt.want {
				t.Errorf("Secrets(%q) = %q, want %q", tt.msg, got, tt.want)
			}
		})
	}
}
