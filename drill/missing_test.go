package drill

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// TestMissingFileProblem builds a repository whose Sync's kustomization
// names a file git lacks, as the drill reads the clone, and checks that the
// report has one missing-file problem with the file, line and full
// message, in place of the Sync's BuildFailed.
func TestMissingFileProblem(t *testing.T) {
	t.Parallel()
	const k = "apps/web/kustomization.yaml"
	tests := []struct {
		name  string
		files map[string]string
		file  string
		msg   string
	}{
		{
			name: "resource kept out of git by .gitignore",
			files: map[string]string{
				k:                     "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: web\nresources:\n- cm.yaml\n- deployment.yaml\n- service.yaml\n- ingress.yaml\n- manifests/secret.yaml\n",
				"apps/web/.gitignore": "manifests/secret.yaml\n", "apps/web/deployment.yaml": cmYAML("d"), "apps/web/service.yaml": cmYAML("s"), "apps/web/ingress.yaml": cmYAML("i"),
			},
			file: k + ":9",
			msg:  `resource "manifests/secret.yaml" does not exist in the repository; it is ignored by apps/web/.gitignore, so it was never committed`,
		},
		{name: "base directory", files: map[string]string{k: "resources:\n- cm.yaml\n- ../../base/web\n"}, file: k + ":3", msg: `resource "../../base/web" does not exist in the repository`},
		{name: "bases entry", files: map[string]string{k: "bases:\n- ../../base/web\n"}, file: k + ":2", msg: `base "../../base/web" does not exist in the repository`},
		{name: "component", files: map[string]string{k: "resources:\n- cm.yaml\ncomponents:\n- ../../components/tls\n"}, file: k + ":4", msg: `component "../../components/tls" does not exist in the repository`},
		{name: "patches path", files: map[string]string{k: "resources:\n- cm.yaml\npatches:\n- path: value.yaml\n"}, file: k + ":4", msg: `patch "value.yaml" does not exist in the repository`},
		{name: "patchesStrategicMerge file", files: map[string]string{k: "resources:\n- cm.yaml\npatchesStrategicMerge:\n- value.yaml\n"}, file: k + ":4", msg: `patch "value.yaml" does not exist in the repository`},
		{name: "configMapGenerator file", files: map[string]string{k: "configMapGenerator:\n- name: settings\n  files:\n  - app.properties\n"}, file: k + ":4", msg: `configMapGenerator file "app.properties" does not exist in the repository`},
		{
			name:  "secretGenerator env file kept out of git",
			files: map[string]string{k: "secretGenerator:\n- name: db\n  envs:\n  - db.env\n", ".gitignore": "*.env\n"},
			file:  k + ":4",
			msg:   `secretGenerator env file "db.env" does not exist in the repository; it is ignored by .gitignore, so it was never committed`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			tt.files["apps/web/cm.yaml"] = cmYAML("cm")
			testenv.WriteFiles(t, root, tt.files)
			components, err := build.Decode("sync.yaml", []byte("apiVersion: capstan.dev/v1\nkind: Sync\nmetadata: {name: web, namespace: capstan-system}\nspec: {url: https://git.example.com/fleet, path: apps/web}\n"))
			if err != nil {
				t.Fatal(err)
			}
			tree := buildTree(t.Context(), root, components, func(*capstanv1.Sync) bool { return true }, nil)
			problems := diagnose(tree, clusterFacts(), nil, map[string]bool{"capstan-system/web": true})
			ls := live("web", "apps/web", failed, 0, 0, capstanv1.BuildFailedReason, "building apps/web at "+rev+": "+tt.file+": "+tt.msg)
			r := assemble(head(false), []*liveSync{ls}, tree, problems)
			want := []Problem{{Kind: ProblemMissingFile, Object: "Sync capstan-system/web", File: tt.file, Message: tt.msg}}
			if diff := cmp.Diff(want, r.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if r.OK {
				t.Error("a report with a missing file is OK")
			}
		})
	}
}

func cmYAML(name string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  k: v\n"
}
