package controller

import (
	"testing"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// pingpong is a student's application: its kustomization lists, at line
// 9, a Secret kept out of git by .gitignore.
func pingpong(ns string) map[string]string {
	return map[string]string{
		"apps/pingpong/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: " + ns +
			"\nresources:\n- manifests/configmap.yaml\n- manifests/deployment.yaml\n- manifests/service.yaml\n- manifests/ingress.yaml\n- manifests/secret.yaml\n",
		"apps/pingpong/.gitignore":                "manifests/secret.yaml\n",
		"apps/pingpong/manifests/configmap.yaml":  configMap(ns, "pingpong", "1"),
		"apps/pingpong/manifests/deployment.yaml": deployment(ns, "pingpong", 1),
		"apps/pingpong/manifests/service.yaml":    configMap(ns, "pingpong-svc", "1"),
		"apps/pingpong/manifests/ingress.yaml":    configMap(ns, "pingpong-ingress", "1"),
	}
}

// TestMissingFileIsNamed proves that an entry of a kustomization naming a
// file git does not hold fails the build with the entry, its line and,
// for an ignored file, the .gitignore, while a Sync path git does not
// hold still says so; nothing is applied either way.
func TestMissingFileIsNamed(t *testing.T) {
	t.Parallel()
	const k = "apps/web/kustomization.yaml"
	tests := []struct {
		name string
		path string
		// files builds the revision for the test's namespace.
		files func(ns string) map[string]string
		// want is the Ready message after "building <path> at <revision>: ".
		want string
	}{
		{
			name:  "resource kept out of git by .gitignore",
			path:  "apps/pingpong",
			files: pingpong,
			want:  `apps/pingpong/kustomization.yaml:9: resource "manifests/secret.yaml" does not exist in the repository; it is ignored by apps/pingpong/.gitignore, so it was never committed`,
		},
		{
			name:  "base directory",
			path:  "apps/web",
			files: web("resources:\n- cm.yaml\n- ../../base/web\n"),
			want:  k + `:3: resource "../../base/web" does not exist in the repository`,
		},
		{
			name:  "bases entry",
			path:  "apps/web",
			files: web("resources:\n- cm.yaml\nbases:\n- ../../base/web\n"),
			want:  k + `:4: base "../../base/web" does not exist in the repository`,
		},
		{
			name:  "component",
			path:  "apps/web",
			files: web("resources:\n- cm.yaml\ncomponents:\n- ../../components/tls\n"),
			want:  k + `:4: component "../../components/tls" does not exist in the repository`,
		},
		{
			name:  "patches path",
			path:  "apps/web",
			files: web("resources:\n- cm.yaml\npatches:\n- path: value.yaml\n"),
			want:  k + `:4: patch "value.yaml" does not exist in the repository`,
		},
		{
			name:  "patchesStrategicMerge file",
			path:  "apps/web",
			files: web("resources:\n- cm.yaml\npatchesStrategicMerge:\n- value.yaml\n"),
			want:  k + `:4: patch "value.yaml" does not exist in the repository`,
		},
		{
			name:  "configMapGenerator file",
			path:  "apps/web",
			files: web("resources:\n- cm.yaml\nconfigMapGenerator:\n- name: settings\n  files:\n  - app.properties\n"),
			want:  k + `:6: configMapGenerator file "app.properties" does not exist in the repository`,
		},
		{
			name:  "secretGenerator env file kept out of git",
			path:  "apps/web",
			files: web("resources:\n- cm.yaml\nsecretGenerator:\n- name: db\n  envs:\n  - db.env\n", ".gitignore", "*.env\n"),
			want:  k + `:6: secretGenerator env file "db.env" does not exist in the repository; it is ignored by .gitignore, so it was never committed`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := env.cluster.Namespace(t)
			r := newRepo(t)
			rev := r.commit(t, tt.files(ns))
			r.newSync(t, ns, "apps", func(s *capstanv1.SyncSpec) { s.Path = tt.path })
			s := waitFailed(t, ns, "apps", capstanv1.BuildFailedReason)
			if want := "building " + tt.path + " at " + rev + ": " + tt.want; readyMessage(s) != want {
				t.Errorf("Ready message\n got %q\nwant %q", readyMessage(s), want)
			}
			if get(t, configMapGVK, ns, "cm") != nil || get(t, configMapGVK, ns, "pingpong") != nil {
				t.Error("a revision that failed to build was applied")
			}
		})
	}
	t.Run("the Sync's path", func(t *testing.T) {
		t.Parallel()
		ns := env.cluster.Namespace(t)
		r := newRepo(t)
		rev := r.commit(t, pingpong(ns))
		r.newSync(t, ns, "apps", func(s *capstanv1.SyncSpec) { s.Path = "apps/pingpnog" })
		s := waitFailed(t, ns, "apps", capstanv1.BuildFailedReason)
		if want := `path "apps/pingpnog" does not exist at ` + rev + "; nothing was applied or pruned"; readyMessage(s) != want {
			t.Errorf("Ready message\n got %q\nwant %q", readyMessage(s), want)
		}
	})
}

// web returns a revision whose apps/web/kustomization.yaml is k next to a
// ConfigMap cm.yaml, with further path, content pairs.
func web(k string, more ...string) func(ns string) map[string]string {
	return func(ns string) map[string]string {
		files := map[string]string{"apps/web/kustomization.yaml": k, "apps/web/cm.yaml": configMap(ns, "cm", "1")}
		for i := 0; i+1 < len(more); i += 2 {
			files[more[i]] = more[i+1]
		}
		return files
	}
}
