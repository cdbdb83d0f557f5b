// Package layout checks that the folders keep the architecture's layers:
// commands on one floor, libraries below them, the API as ground. It reads
// the module's import graph with `go list`.
package layout

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/capstan-gitops/capstan"

// pkg is what `go list -json` says of one package.
type pkg struct {
	ImportPath string
	Deps       []string
}

// rule says which of the module's packages the packages under from may not
// depend on, directly or through others.
type rule struct {
	name   string
	from   []string
	denied []string
}

// commands are the user-facing commands: only cmd/ wires them together.
var commands = []string{"bootstrap", "drill", "day2", "cmd"}

func TestLayers(t *testing.T) {
	t.Parallel()
	pkgs := list(t)
	rules := []rule{
		{name: "a library imports a command or the controller", from: []string{"internal"}, denied: append([]string{"components/controller"}, commands...)},
		{name: "the API imports the module", from: []string{"api"}, denied: []string{""}},
		{name: "a provider or component imports a command", from: []string{"clusters", "components"}, denied: commands},
		{name: "bootstrap imports a peer command", from: []string{"bootstrap"}, denied: []string{"drill", "day2", "cmd"}},
		{name: "drill imports a peer command", from: []string{"drill"}, denied: []string{"bootstrap", "day2", "cmd"}},
		{name: "a day-2 command imports a peer command", from: []string{"day2"}, denied: []string{"bootstrap", "drill", "cmd"}},
	}
	checked := 0
	for _, r := range rules {
		for _, p := range pkgs {
			if !under(p.ImportPath, r.from) {
				continue
			}
			checked++
			for _, d := range p.Deps {
				if d != p.ImportPath && under(d, r.denied) {
					t.Errorf("%s: %s depends on %s", r.name, rel(p.ImportPath), rel(d))
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d packages: go list found %d", checked, len(pkgs))
	}
}

// under reports whether the module package path is one of dirs or below one.
func under(path string, dirs []string) bool {
	if !strings.HasPrefix(path, module) {
		return false
	}
	r := rel(path)
	for _, d := range dirs {
		if d == "" || r == d || strings.HasPrefix(r, d+"/") {
			return true
		}
	}
	return false
}

func rel(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
}

// list returns every package of the module with its dependencies.
func list(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", "list", "-json=ImportPath,Deps", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestUnder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		dirs []string
		want bool
	}{
		{module + "/day2/diff", []string{"day2"}, true},
		{module + "/day2x", []string{"day2"}, false},
		{module + "/internal/git", []string{""}, true},
		{"k8s.io/api/core/v1", []string{""}, false},
		{module + "/components/controller", []string{"components/controller"}, true},
	}
	for _, tt := range tests {
		if got := under(tt.path, tt.dirs); got != tt.want {
			t.Errorf("under(%q, %q) = %t, want %t", tt.path, tt.dirs, got, tt.want)
		}
	}
}
