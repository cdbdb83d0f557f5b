package version

import (
	"os"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// TestNoDependencyBelowItsSecurityFix stands in for govulncheck, whose
// database cannot be downloaded here: every module listed with a published
// vulnerability must be at least at the release that fixed it.
//
// Known and accepted: github.com/docker/docker v27.0.3, held there by k3d
// v5.8.3. Its CVE-2024-41110 is in the daemon's AuthZ plugin path, which the
// client code Capstan uses does not run.
func TestNoDependencyBelowItsSecurityFix(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	minimum := map[string]string{
		"github.com/go-git/go-git/v5":      "v5.19.1", // path traversal and argument injection
		"github.com/go-git/go-billy/v5":    "v5.9.0",  // path traversal through the filesystem abstraction
		"golang.org/x/crypto":              "v0.45.0", // ssh: unbounded memory, agent panics
		"golang.org/x/net":                 "v0.38.0", // html tokenizer and proxy bypass issues
		"golang.org/x/oauth2":              "v0.27.0", // jws: memory exhaustion on malformed tokens
		"google.golang.org/grpc":           "v1.79.3", // authorization bypass on malformed :path
		"github.com/containerd/containerd": "v1.7.13", // host memory exhaustion through image import
	}
	seen := map[string]bool{}
	for _, r := range mf.Require {
		min, ok := minimum[r.Mod.Path]
		if !ok {
			continue
		}
		seen[r.Mod.Path] = true
		if semver.Compare(r.Mod.Version, min) < 0 {
			t.Errorf("%s %s is below %s, the release that fixed its published vulnerabilities", r.Mod.Path, r.Mod.Version, min)
		}
	}
	for _, must := range []string{"github.com/go-git/go-git/v5", "github.com/go-git/go-billy/v5", "golang.org/x/crypto"} {
		if !seen[must] {
			t.Errorf("%s is no longer required: update this test's list", must)
		}
	}
}
