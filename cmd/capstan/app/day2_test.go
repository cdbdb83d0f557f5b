package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unreachableKubeconfig points at a port nothing listens on.
func unreachableKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n" +
		"contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\ncurrent-context: c\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Every day-2 command says, in one line and a hint, that the cluster does
// not answer; diff exits 2 as diff(1) does on trouble.
func TestDay2CommandsExplainAnUnreachableCluster(t *testing.T) {
	t.Parallel()
	kc := unreachableKubeconfig(t)
	tests := []struct {
		args     []string
		wantCode int
	}{
		{args: []string{"status"}, wantCode: 1},
		{args: []string{"get", "-A"}, wantCode: 1},
		{args: []string{"reconcile"}, wantCode: 1},
		{args: []string{"suspend", "web"}, wantCode: 1},
		{args: []string{"resume", "web"}, wantCode: 1},
		{args: []string{"diff"}, wantCode: 2},
		{args: []string{"check"}, wantCode: 1},
		{args: []string{"check", "--pre"}, wantCode: 1},
		{args: []string{"uninstall", "--yes"}, wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			args := append([]string{tt.args[0], "--kubeconfig", kc}, tt.args[1:]...)
			stdout, stderr, err := run(t, args...)
			var out bytes.Buffer
			code := exitCode(err, &out)
			got := stderr + out.String()
			if code != tt.wantCode || stdout != "" {
				t.Errorf("exit %d (want %d), stdout %q", code, tt.wantCode, stdout)
			}
			lines := strings.Split(strings.TrimSpace(got), "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "error: ") || !strings.Contains(lines[0], "unreachable at https://127.0.0.1:1") ||
				!strings.HasPrefix(lines[1], "hint: is the cluster running?") {
				t.Errorf("stderr = %q, want one error line and a hint", got)
			}
		})
	}
}

func TestDay2CommandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "suspend without a name", args: []string{"suspend"}, wantErr: "capstan suspend needs the name of a Sync"},
		{name: "resume with two names", args: []string{"resume", "a", "b"}, wantErr: "takes one Sync name, got 2 arguments"},
		{name: "flag after the name", args: []string{"status", "web", "-o", "json"}, wantErr: "flag -o after the name: put flags first"},
		{name: "bad output", args: []string{"status", "-o", "xml"}, wantErr: `unknown output format "xml"`},
		{name: "bad check output", args: []string{"check", "-o", "table"}, wantErr: `unknown output format "table"`},
		{name: "bad reconcile output", args: []string{"reconcile", "-o", "toml"}, wantErr: `unknown output format "toml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{tt.args[0], "--kubeconfig", unreachableKubeconfig(t)}, tt.args[1:]...)
			_, _, err := run(t, args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestDiffErrorExitsTwoWithItsHint(t *testing.T) {
	t.Parallel()
	_, _, err := run(t, "diff", "--kubeconfig", unreachableKubeconfig(t), "a", "b")
	var stderr bytes.Buffer
	if code := exitCode(err, &stderr); code != 2 || !strings.HasPrefix(stderr.String(), "error: capstan diff takes one Sync name") {
		t.Errorf("exit %d, stderr %q; want exit 2 and the error on stderr", code, stderr.String())
	}
}
