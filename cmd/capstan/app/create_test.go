package app

import (
	"strings"
	"testing"

	"github.com/capstan-gitops/capstan/internal/golden"
)

// TestCreateSyncExportGolden: one golden export per flag of `capstan
// create sync`, each beside the two required ones.
func TestCreateSyncExportGolden(t *testing.T) {
	t.Parallel()
	base := []string{"create", "sync", "--export", "--url", "https://git.example.com/org/app.git"}
	tests := []struct {
		name string
		args []string
	}{
		{"minimal", nil},
		{"branch", []string{"--branch", "develop"}},
		{"tag", []string{"--tag", "v1.2.0"}},
		{"semver", []string{"--semver", ">=1.0.0"}},
		{"commit", []string{"--commit", strings.Repeat("0a", 20)}},
		{"path", []string{"--path", "overlays/prod"}},
		{"namespace", []string{"--namespace", "apps"}},
		{"target-namespace", []string{"--target-namespace", "production"}},
		{"substitute", []string{"--substitute", "CLUSTER=prod", "--substitute", "REPLICAS=3"}},
		{"substitute-from", []string{"--substitute-from", "configmap/cluster-vars", "--substitute-from", "secret/app-secrets?"}},
		{"depends-on", []string{"--depends-on", "infra", "--depends-on", "crds"}},
		{"interval", []string{"--interval", "10m"}},
		{"prune", []string{"--prune=false"}},
		{"secret-ref", []string{"--secret-ref", "capstan-git"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append(append(append([]string{}, base...), tt.args...), "app")
			stdout, stderr, err := run(t, args...)
			if err != nil || stderr != "" {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			golden.Assert(t, "create-sync-"+tt.name, []byte(stdout))
		})
	}
}

func TestCreateSyncRefusesBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--url", "https://x/r.git", "--branch", "a", "--semver", ">=1"}, "at most one of --branch, --tag, --semver and --commit"},
		{[]string{"--url", "https://x/r.git", "--substitute", "no-equals"}, "--substitute \"no-equals\""},
		{[]string{"--url", "https://x/r.git", "--substitute", "1X=a"}, "--substitute \"1X=a\""},
		{[]string{"--url", "https://x/r.git", "--substitute-from", "pod/x"}, "--substitute-from \"pod/x\""},
		{[]string{"--export"}, "--url is required"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			_, _, err := run(t, append(append([]string{"create", "sync", "--export"}, tt.args...), "app")...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestCreateSyncNameFirst: NAME before the flags, as the issue writes it,
// gives the same manifest as NAME last.
func TestCreateSyncNameFirst(t *testing.T) {
	t.Parallel()
	first, _, err := run(t, "create", "sync", "prod", "--export", "--url", "https://x/r.git", "--semver", ">=1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	last, _, err := run(t, "create", "sync", "--export", "--url", "https://x/r.git", "--semver", ">=1.0.0", "prod")
	if err != nil || first != last || !strings.Contains(first, "name: prod") {
		t.Errorf("name first:\n%s\nname last:\n%s (%v)", first, last, err)
	}
}
