package git

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
)

func TestOriginURL(t *testing.T) {
	t.Parallel()
	withOrigin := t.TempDir()
	repo, err := gogit.PlainInit(withOrigin, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{"ssh://git@example.com/me/config.git"}}); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(withOrigin, "clusters", "dwk")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	noOrigin := t.TempDir()
	if _, err := gogit.PlainInit(noOrigin, false); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     string
		want    string
		wantErr error
	}{
		{"work tree", withOrigin, "ssh://git@example.com/me/config.git", nil},
		{"directory inside", sub, "ssh://git@example.com/me/config.git", nil},
		{"no origin", noOrigin, "", ErrNoOrigin},
		{"not a repository", t.TempDir(), "", gogit.ErrRepositoryNotExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := OriginURL(tt.dir)
			if got != tt.want || (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("OriginURL = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
