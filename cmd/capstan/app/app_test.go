package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/capstan-gitops/capstan/internal/golden"
	"github.com/capstan-gitops/capstan/internal/version"
)

// run executes the CLI in-process and returns stdout, stderr and the error.
func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := Run(t.Context(), append([]string{"capstan"}, args...), &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestPrintVersionGolden(t *testing.T) {
	t.Parallel()
	info := version.Info{Version: "v1.2.3", Commit: "0123456789abcdef", GoVersion: "go1.26.8", Platform: "linux/amd64"}
	for _, format := range []string{"text", "json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := printVersion(&buf, format, info); err != nil {
				t.Fatalf("printVersion: %v", err)
			}
			golden.Assert(t, "version-"+format, buf.Bytes())
		})
	}
}

func TestVersionCommandInProcess(t *testing.T) {
	t.Parallel()
	stdout, stderr, err := run(t, "version", "-o", "json")
	if err != nil {
		t.Fatalf("version: %v (stderr %q)", err, stderr)
	}
	var got version.Info
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("decoding %q: %v", stdout, err)
	}
	if got != version.Get() {
		t.Errorf("version -o json = %+v, want %+v", got, version.Get())
	}
}

func TestCommandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "bad output format", args: []string{"version", "-o", "xml"}, wantErr: `unknown output format "xml"`},
		{name: "unknown shell", args: []string{"completion", "tcsh"}, wantErr: `unknown shell "tcsh"`},
		{name: "drill with a missing age key file", args: []string{"drill", "--url", "https://git.example.com/fleet", "--age-key-file", "no-such.key"}, wantErr: "reading --age-key-file"},
		{name: "drill with a file that is no age key", args: []string{"drill", "--url", "https://git.example.com/fleet", "--age-key-file", "app_test.go"}, wantErr: "the age key file: line 1 is not an age identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := run(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	tests := map[string]string{"bash": "complete -o default -F _capstan_complete capstan", "zsh": "#compdef capstan", "fish": "complete -c capstan"}
	for shell, want := range tests {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			stdout, _, err := run(t, "completion", shell)
			if err != nil {
				t.Fatalf("completion %s: %v", shell, err)
			}
			if !strings.Contains(stdout, want) {
				t.Errorf("completion %s output lacks %q:\n%s", shell, want, stdout)
			}
		})
	}
}

type hintErr struct{}

func (hintErr) Error() string { return "capstan is not installed here" }
func (hintErr) Hint() string  { return "run capstan bootstrap" }

func TestExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		wantCode   int
		wantStderr string
	}{
		{name: "success", err: nil, wantCode: 0, wantStderr: ""},
		{name: "plain error", err: errors.New("boom"), wantCode: 1, wantStderr: "error: boom\n"},
		{name: "error with hint", err: hintErr{}, wantCode: 1, wantStderr: "error: capstan is not installed here\nhint: run capstan bootstrap\n"},
		{name: "silent status", err: &exitCodeError{code: 1}, wantCode: 1, wantStderr: ""},
		{name: "status with error", err: &exitCodeError{code: 2, err: errors.New("cluster unreachable")}, wantCode: 2, wantStderr: "error: cluster unreachable\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			if got := exitCode(tt.err, &stderr); got != tt.wantCode {
				t.Errorf("exitCode = %d, want %d", got, tt.wantCode)
			}
			if stderr.String() != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

func TestInstallExportGolden(t *testing.T) {
	t.Parallel()
	stdout, _, err := run(t, "install", "--export", "--version", "v0.2.0")
	if err != nil {
		t.Fatalf("install --export: %v", err)
	}
	golden.Assert(t, "install-export-v0.2.0", []byte(stdout))
}

func TestInstallWithoutExportExplains(t *testing.T) {
	t.Parallel()
	_, _, err := run(t, "install")
	if err == nil || !strings.Contains(err.Error(), "--export") {
		t.Fatalf("err = %v, want a hint about --export", err)
	}
}

func TestLabelSafe(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"v1.2.3": "v1.2.3", "v1.2.3+incompatible": "v1.2.3-incompatible", "(devel)": "devel"} {
		if got := labelSafe(in); got != want {
			t.Errorf("labelSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
