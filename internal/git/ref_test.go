package git

import (
	"errors"
	"strings"
	"testing"
)

func TestRevision(t *testing.T) {
	t.Parallel()
	hash := strings.Repeat("ab", 20)
	tests := []struct {
		name     string
		rev      Revision
		want     string
		wantName string
		wantHash string
	}{
		{"branch", NewRevision("main", hash), "main@sha1:" + hash, "main", hash},
		{"tag", NewRevision("v1.2.0", hash), "v1.2.0@sha1:" + hash, "v1.2.0", hash},
		{"nested branch", NewRevision("feature/x@y", hash), "feature/x@y@sha1:" + hash, "feature/x@y", hash},
		{"commit only", NewRevision("", hash), "sha1:" + hash, "", hash},
		{"malformed", Revision("main"), "main", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if string(tt.rev) != tt.want || tt.rev.Name() != tt.wantName || tt.rev.Hash() != tt.wantHash {
				t.Errorf("got %q name %q hash %q, want %q %q %q", tt.rev, tt.rev.Name(), tt.rev.Hash(), tt.want, tt.wantName, tt.wantHash)
			}
		})
	}
}

func TestRefValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ref     Ref
		wantErr bool
	}{
		{"default branch", Ref{}, false},
		{"branch", Ref{Branch: "feature/x"}, false},
		{"tag", Ref{Tag: "v1.0.0"}, false},
		{"commit", Ref{Commit: strings.Repeat("0a", 20)}, false},
		{"short commit", Ref{Commit: "0a1b2c"}, true},
		{"uppercase commit", Ref{Commit: strings.Repeat("0A", 20)}, true},
		{"branch with space", Ref{Branch: "a b"}, true},
		{"branch with dotdot", Ref{Branch: "a..b"}, true},
		{"tag with colon", Ref{Tag: "v1:x"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.ref.validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("validate() = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && (!errors.Is(err, ErrInvalidRef) || !IsTerminal(err)) {
				t.Errorf("error %v is not a terminal ErrInvalidRef", err)
			}
		})
	}
}
