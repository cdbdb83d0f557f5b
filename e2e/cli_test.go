package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	r := capstan(t, nil, "version", "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var info map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
		t.Fatalf("decoding %q: %v", r.stdout, err)
	}
	for _, key := range []string{"version", "commit", "goVersion", "platform"} {
		if info[key] == "" {
			t.Errorf("version -o json lacks %q: %v", key, info)
		}
	}
}

func TestShellCompletionListsCommands(t *testing.T) {
	t.Parallel()
	r := capstan(t, nil, "--generate-bash-completion")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, cmd := range []string{"version", "completion"} {
		if !strings.Contains(r.stdout, cmd+"\n") {
			t.Errorf("completion candidates %q lack %q", r.stdout, cmd)
		}
	}
}

func TestUnknownCommandFailsWithOneErrorLine(t *testing.T) {
	t.Parallel()
	r := capstan(t, nil, "frobnicate")
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	if !strings.HasPrefix(r.stderr, "error: ") || strings.Count(r.stderr, "error:") != 1 {
		t.Errorf("stderr = %q, want one error line", r.stderr)
	}
}
