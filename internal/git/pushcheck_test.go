package git

import (
	"errors"
	"testing"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

func TestCheckPush(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	srv.InitRepo(t, "empty")
	srv.InitRepo(t, "full")
	srv.Commit(t, "full", "main", map[string]string{"a": "b"}, "c")
	ssh := Auth{Identity: srv.ClientPrivateKeyPEM(), KnownHosts: srv.KnownHosts()}
	tests := []struct {
		name    string
		url     string
		auth    Auth
		wantErr error
	}{
		{"http empty repo", srv.HTTPURL("empty"), Auth{Username: srv.Username(), Password: srv.Password()}, nil},
		{"http repo with commits", srv.HTTPURL("full"), Auth{Username: srv.Username(), Password: srv.Password()}, nil},
		{"ssh", srv.SSHURL("full"), ssh, nil},
		{"http wrong password", srv.HTTPURL("full"), Auth{Username: srv.Username(), Password: "wrong"}, ErrAuthFailed},
		{"ssh wrong host key", srv.SSHURL("full"), Auth{Identity: srv.ClientPrivateKeyPEM(), KnownHosts: testenv.NewGitServer(t).KnownHosts()}, ErrHostKeyMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ep, err := ParseURL(tt.url, false)
			if err != nil {
				t.Fatal(err)
			}
			err = CheckPush(t.Context(), ep, tt.auth)
			if (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("CheckPush = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
