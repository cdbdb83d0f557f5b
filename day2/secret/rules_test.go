package secret

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	alice = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
	bob   = "age1lvyvwawkr0mcnnnncaghunadrqkmuf9e6507x9y920xxpp866cnql7dp2z"
)

// TestMatchRule: the first creation rule whose path_regex matches the path
// relative to the .sops.yaml's directory applies, as in sops.
func TestMatchRule(t *testing.T) {
	t.Parallel()
	cfg := `creation_rules:
  - path_regex: ^clusters/prod/.*\.ya?ml$
    encrypted_regex: ^(data|stringData)$
    age: ` + alice + `, ` + bob + `
  - path_regex: \.env$
    age:
      - ` + bob + `
  - path_regex: ^nokeys/
  - age: ` + alice + `
`
	dir := "/repo"
	tests := []struct {
		name, file string
		want       Rule
	}{
		{"first rule, relative path", "/repo/clusters/prod/db.yaml", Rule{Recipients: []string{alice, bob}, EncryptedRegex: "^(data|stringData)$"}},
		{"first rule wins over the catch-all", "/repo/clusters/prod/x.yml", Rule{Recipients: []string{alice, bob}, EncryptedRegex: "^(data|stringData)$"}},
		{"anchored regex misses a deeper path", "/repo/sub/clusters/prod/db.yaml", Rule{Recipients: []string{alice}}},
		{"age as a list", "/repo/apps/app.env", Rule{Recipients: []string{bob}}},
		{"rule without recipients", "/repo/nokeys/s.yaml", Rule{}},
		{"no path_regex matches everything", "/repo/other.json", Rule{Recipients: []string{alice}}},
		{"file outside the config dir: absolute path", "/elsewhere/clusters/prod/db.yaml", Rule{Recipients: []string{alice}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := MatchRule([]byte(cfg), dir, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Recipients, tt.want.Recipients) || got.EncryptedRegex != tt.want.EncryptedRegex {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMatchRuleRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, cfg, wantErr string }{
		{"no rule matches", "creation_rules:\n  - path_regex: ^x/\n    age: " + alice + "\n", "no creation_rules entry matches a/s.yaml"},
		{"bad path_regex", "creation_rules:\n  - path_regex: '('\n", "creation_rules[0]: invalid path_regex"},
		{"pgp", "creation_rules:\n  - pgp: ABC\n    age: " + alice + "\n", "creation_rules[0] uses pgp"},
		{"unencrypted_regex", "creation_rules:\n  - unencrypted_regex: ^meta\n", "uses unencrypted_regex"},
		{"key_groups", "creation_rules:\n  - key_groups:\n    - age: [" + alice + "]\n", "uses key_groups"},
		{"not yaml", "creation_rules: [", "parsing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := MatchRule([]byte(tt.cfg), "/repo", "/repo/a/s.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestFindRuleWalksUp: the nearest .sops.yaml above the file applies, and
// its path_regex is matched relative to it.
func TestFindRuleWalksUp(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, filepath.Join(root, ConfigName), "creation_rules:\n  - path_regex: ^clusters/dwk/\n    age: "+alice+"\n")
	write(t, filepath.Join(root, "clusters", "dwk", "apps", "db.yaml"), "kind: Secret\n")
	write(t, filepath.Join(root, "nested", ConfigName), "creation_rules:\n  - path_regex: ^s\\.yaml$\n    age: "+bob+"\n")
	write(t, filepath.Join(root, "nested", "s.yaml"), "kind: Secret\n")
	r, err := FindRule(filepath.Join(root, "clusters", "dwk", "apps", "db.yaml"))
	if err != nil || !slices.Equal(r.Recipients, []string{alice}) || r.Config != filepath.Join(root, ConfigName) {
		t.Errorf("top: %+v, %v", r, err)
	}
	r, err = FindRule(filepath.Join(root, "nested", "s.yaml"))
	if err != nil || !slices.Equal(r.Recipients, []string{bob}) {
		t.Errorf("nested: %+v, %v", r, err)
	}
	if _, err := FindConfig(filepath.Join(t.TempDir(), "x.yaml")); err != nil && !errors.Is(err, ErrNoConfig) {
		t.Errorf("no config: %v", err)
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
