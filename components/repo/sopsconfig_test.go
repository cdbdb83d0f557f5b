package repo

import (
	"errors"
	"slices"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/capstan-gitops/capstan/internal/golden"
	"github.com/capstan-gitops/capstan/internal/sops"
)

const (
	newKey  = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
	teamKey = "age1lvyvwawkr0mcnnnncaghunadrqkmuf9e6507x9y920xxpp866cnql7dp2z"
)

// TestSOPSConfigGolden: a repository without a .sops.yaml gets one whose
// rules encrypt .env and .ini files below the path whole and any other
// file's data and stringData, for the new key, with YAML indented by 2.
func TestSOPSConfigGolden(t *testing.T) {
	t.Parallel()
	out, changed, err := SOPSConfig(nil, "clusters/dwk.prod", newKey)
	if err != nil || !changed {
		t.Fatalf("changed %v, err %v", changed, err)
	}
	golden.Assert(t, "sops-config", out)
	for rel, want := range map[string]string{
		"clusters/dwk.prod/apps/db.yaml": ManifestEncryptedRegex, "clusters/dwk.prod/db.json": ManifestEncryptedRegex,
		"clusters/dwk.prod/apps/app.env": "", "clusters/dwk.prod/x/app.ini": "",
	} {
		r, err := sops.MatchCreationRule(out, rel)
		if err != nil || r.EncryptedRegex != want || !slices.Equal(r.Recipients, []string{newKey}) {
			t.Errorf("%s: rule %+v, %v; want the new key and encrypted_regex %q", rel, r, err, want)
		}
	}
	for _, rel := range []string{"clusters/dwkXprod/db.yaml", "other/clusters/dwk.prod/db.yaml", "clusters/dwk.prod.yaml"} {
		if _, err := sops.MatchCreationRule(out, rel); !errors.Is(err, sops.ErrNoCreationRule) {
			t.Errorf("%s: %v, want no rule (the rules are for the path only)", rel, err)
		}
	}
}

// TestSOPSConfigKeepsTheUsersRules: an existing .sops.yaml keeps its rules
// and comments, gets the missing rules appended (so they apply only where
// no rule of the user's did), is left alone when it already encrypts for
// the key, and is refused when its rule for the path is for other keys.
func TestSOPSConfigKeepsTheUsersRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, existing string
		changed        bool
		// wantRules are the path_regex values of the result, in order.
		wantRules []string
		wantErr   string
	}{
		{name: "empty file", existing: "", changed: true,
			wantRules: []string{`^clusters/dwk/.*\.(env|ini)$`, `^clusters/dwk/`}},
		{name: "other paths' rules come first", changed: true,
			existing:  "# the team's rules\ncreation_rules:\n  # staging\n  - path_regex: ^clusters/staging/\n    age: " + teamKey + "\n",
			wantRules: []string{`^clusters/staging/`, `^clusters/dwk/.*\.(env|ini)$`, `^clusters/dwk/`}},
		{name: "only stores", existing: "stores:\n  yaml:\n    indent: 4\n", changed: true,
			wantRules: []string{`^clusters/dwk/.*\.(env|ini)$`, `^clusters/dwk/`}},
		{name: "the user's yaml rule covers manifests: only the env rule is added", changed: true,
			existing:  "creation_rules:\n  - path_regex: \\.yaml$\n    encrypted_regex: ^data$\n    age: " + newKey + "," + teamKey + "\n",
			wantRules: []string{`\.yaml$`, `^clusters/dwk/.*\.(env|ini)$`, `^clusters/dwk/`}},
		{name: "already for the key", changed: false,
			existing: "creation_rules:\n  - path_regex: ^clusters/dwk/\n    age: " + newKey + "\n"},
		{name: "flow-style list", existing: "creation_rules: [{path_regex: ^x/, age: " + teamKey + "}]\n", changed: true,
			wantRules: []string{`^x/`, `^clusters/dwk/.*\.(env|ini)$`, `^clusters/dwk/`}},
		{name: "a catch-all rule for other keys", existing: "creation_rules:\n  - age: " + teamKey + "\n",
			wantErr: "already has a rule for clusters/dwk/secret.env (creation_rules[0], for " + teamKey + "): it does not encrypt for the new key " + newKey},
		{name: "a rule of pgp keys", existing: "creation_rules:\n  - path_regex: ^clusters/\n    pgp: ABCDEF\n",
			wantErr: "creation_rules[0] uses pgp"},
		{name: "not a mapping", existing: "- a\n", wantErr: "parsing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, changed, err := SOPSConfig([]byte(tt.existing), "clusters/dwk", newKey)
			if tt.wantErr != "" {
				var ce *SOPSConfigError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &ce) || ce.Hint() == "" {
					t.Fatalf("err %v, want %q with a hint", err, tt.wantErr)
				}
				return
			}
			if err != nil || changed != tt.changed {
				t.Fatalf("changed %v, err %v; want changed %v", changed, err, tt.changed)
			}
			if !changed {
				return
			}
			if got := pathRegexes(t, out); !slices.Equal(got, tt.wantRules) {
				t.Errorf("rules %q, want %q:\n%s", got, tt.wantRules, out)
			}
			for _, line := range strings.Split(tt.existing, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "#") && !strings.Contains(string(out), strings.TrimSpace(line)) {
					t.Errorf("the comment %q is lost:\n%s", line, out)
				}
			}
			if strings.Contains(tt.existing, "indent: 4") && !strings.Contains(string(out), "indent: 4") {
				t.Errorf("the user's stores changed:\n%s", out)
			}
		})
	}
}

// pathRegexes lists the path_regex of each creation rule of a .sops.yaml.
func pathRegexes(t *testing.T, cfg []byte) []string {
	t.Helper()
	var f struct {
		CreationRules []struct {
			PathRegex string `json:"path_regex"`
		} `json:"creation_rules"`
	}
	if err := sigsyaml.Unmarshal(cfg, &f); err != nil {
		t.Fatalf("the result does not parse: %v\n%s", err, cfg)
	}
	var out []string
	for _, r := range f.CreationRules {
		out = append(out, r.PathRegex)
	}
	return out
}
