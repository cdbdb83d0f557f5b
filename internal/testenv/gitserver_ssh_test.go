package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGitServerParseSSHCommand(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, dir := range []string{"app.git", "org/app.git", "it's!.git"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dir, "HEAD"), []byte("ref: refs/heads/main\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(root, "escape.git")); err != nil {
		t.Fatal(err)
	}
	srv := &GitServer{root: root}
	tests := []struct {
		command     string
		wantService string
		wantDir     string // relative to root; "" means refused
	}{
		{"git-upload-pack '/app.git'", "upload-pack", "app.git"},
		{"git-receive-pack '/app.git'", "receive-pack", "app.git"},
		{"git-upload-pack 'app.git'", "upload-pack", "app.git"},
		{"git-upload-pack '~/app.git'", "upload-pack", "app.git"},
		{"git-upload-pack '/~/org/app.git'", "upload-pack", "org/app.git"},
		{`git-upload-pack '/it'\''s'\!'.git'`, "upload-pack", "it's!.git"},
		{"git-upload-pack '/../app.git'", "", ""},
		{"git-upload-pack '/org/../app.git'", "", ""},
		{"git-upload-pack '//app.git'", "", ""},
		{"git-upload-pack '/escape.git'", "", ""},
		{"git-upload-pack '/missing.git'", "", ""},
		{"git-upload-pack '/org'", "", ""},
		{"git-upload-pack '-/app.git'", "", ""},
		{"git-upload-pack /app.git", "", ""},
		{"git-upload-pack '/app.git", "", ""},
		{"git-upload-pack '/app.git' '/org/app.git'", "", ""},
		{"git-upload-archive '/app.git'", "", ""},
		{"sh -c 'id'", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			t.Parallel()
			service, dir, err := srv.parseSSHCommand(tt.command)
			if tt.wantDir == "" {
				if err == nil {
					t.Fatalf("accepted, resolved to %s %s", service, dir)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			realRoot, _ := filepath.EvalSymlinks(root)
			if want := filepath.Join(realRoot, tt.wantDir); service != tt.wantService || dir != want {
				t.Errorf("got %s %s, want %s %s", service, dir, tt.wantService, want)
			}
		})
	}
}

func FuzzGitServerRepoPath(f *testing.F) {
	for _, seed := range []string{"/app.git", "app.git", "~/a/b.git", "/../x", "a/./b", "a//b", "-x", "/~/..", "a\\..\\b"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rel, err := gitServerRepoPath(p)
		if err != nil {
			return
		}
		root := filepath.FromSlash("/srv/git")
		joined := filepath.Join(root, rel)
		if !strings.HasPrefix(joined, root+string(filepath.Separator)) {
			t.Fatalf("%q resolves to %q outside %q", p, joined, root)
		}
		if filepath.Clean(rel) != rel || strings.HasPrefix(rel, "-") {
			t.Fatalf("%q gives unclean path %q", p, rel)
		}
	})
}

func FuzzGitServerDequote(f *testing.F) {
	for _, seed := range []string{"'a'", `'it'\''s'`, `'a'\!'b'`, "'", "a", `''\'`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Any string must quote and dequote back to itself; arbitrary
		// input must not panic.
		if got, err := gitServerDequote(gitServerQuote(s)); err != nil || got != s {
			t.Fatalf("%q quotes to %q, which dequotes to %q, %v", s, gitServerQuote(s), got, err)
		}
		_, _ = gitServerDequote(s)
	})
}

// gitServerQuote is git's sq_quote, as go-git's SSH client applies it.
func gitServerQuote(s string) string {
	s = strings.ReplaceAll(s, "'", `'\''`)
	s = strings.ReplaceAll(s, "!", `'\!'`)
	return "'" + s + "'"
}
