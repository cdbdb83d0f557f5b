package build

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBuildMissingFile names, for every kind of kustomization entry that
// can name a file, the entry, its line and, when a .gitignore explains
// why it is not in the repository, that .gitignore.
func TestBuildMissingFile(t *testing.T) {
	t.Parallel()
	const k = "app/kustomization.yaml"
	tests := []struct {
		name  string
		files map[string]string
		want  MissingFileError
		msg   string
	}{
		{
			name:  "resource",
			files: kust("resources:\n- cm.yaml\n- manifests/secret.yaml\n"),
			want:  MissingFileError{File: k, Line: 3, What: "resource", Entry: "manifests/secret.yaml", Missing: "app/manifests/secret.yaml"},
			msg:   `app/kustomization.yaml:3: resource "manifests/secret.yaml" does not exist in the repository`,
		},
		{
			name:  "resource ignored by the directory's .gitignore",
			files: kust("resources:\n- cm.yaml\n- manifests/secret.yaml\n", "app/.gitignore", "# secrets stay out of git\nmanifests/secret.yaml\n"),
			want:  MissingFileError{File: k, Line: 3, What: "resource", Entry: "manifests/secret.yaml", Missing: "app/manifests/secret.yaml", IgnoredBy: "app/.gitignore"},
			msg:   `app/kustomization.yaml:3: resource "manifests/secret.yaml" does not exist in the repository; it is ignored by app/.gitignore, so it was never committed`,
		},
		{
			name:  "resource in a directory the root .gitignore ignores",
			files: kust("resources:\n- secrets/db.yaml\n", ".gitignore", "secrets/\n"),
			want:  MissingFileError{File: k, Line: 2, What: "resource", Entry: "secrets/db.yaml", Missing: "app/secrets/db.yaml", IgnoredBy: ".gitignore"},
			msg:   `app/kustomization.yaml:2: resource "secrets/db.yaml" does not exist in the repository; it is ignored by .gitignore, so it was never committed`,
		},
		{
			name:  "resource re-included by a deeper .gitignore",
			files: kust("resources:\n- secret.yaml\n", ".gitignore", "secret.yaml\n", "app/.gitignore", "!secret.yaml\n"),
			want:  MissingFileError{File: k, Line: 2, What: "resource", Entry: "secret.yaml", Missing: "app/secret.yaml"},
			msg:   `app/kustomization.yaml:2: resource "secret.yaml" does not exist in the repository`,
		},
		{
			name:  "base directory",
			files: kust("resources:\n- ../base\n"),
			want:  MissingFileError{File: k, Line: 2, What: "resource", Entry: "../base", Missing: "base"},
			msg:   `app/kustomization.yaml:2: resource "../base" does not exist in the repository`,
		},
		{
			name:  "bases entry",
			files: kust("bases:\n- ../base\n"),
			want:  MissingFileError{File: k, Line: 2, What: "base", Entry: "../base", Missing: "base"},
			msg:   `app/kustomization.yaml:2: base "../base" does not exist in the repository`,
		},
		{
			name:  "component",
			files: kust("resources:\n- cm.yaml\ncomponents:\n- ../components/tls\n"),
			want:  MissingFileError{File: k, Line: 4, What: "component", Entry: "../components/tls", Missing: "components/tls"},
			msg:   `app/kustomization.yaml:4: component "../components/tls" does not exist in the repository`,
		},
		{
			name:  "patches path",
			files: kust("resources:\n- cm.yaml\npatches:\n- path: replicas.yaml\n"),
			want:  MissingFileError{File: k, Line: 4, What: "patch", Entry: "replicas.yaml", Missing: "app/replicas.yaml"},
			msg:   `app/kustomization.yaml:4: patch "replicas.yaml" does not exist in the repository`,
		},
		{
			name:  "patchesStrategicMerge file",
			files: kust("resources:\n- cm.yaml\npatchesStrategicMerge:\n- replicas.yaml\n"),
			want:  MissingFileError{File: k, Line: 4, What: "patch", Entry: "replicas.yaml", Missing: "app/replicas.yaml"},
			msg:   `app/kustomization.yaml:4: patch "replicas.yaml" does not exist in the repository`,
		},
		{
			name:  "configMapGenerator file",
			files: kust("configMapGenerator:\n- name: settings\n  files:\n  - app.properties\n"),
			want:  MissingFileError{File: k, Line: 4, What: "configMapGenerator file", Entry: "app.properties", Missing: "app/app.properties"},
			msg:   `app/kustomization.yaml:4: configMapGenerator file "app.properties" does not exist in the repository`,
		},
		{
			name:  "secretGenerator file with a key, ignored",
			files: kust("secretGenerator:\n- name: db\n  files:\n  - password=secrets/db.txt\n", "app/.gitignore", "*.txt\n"),
			want:  MissingFileError{File: k, Line: 4, What: "secretGenerator file", Entry: "password=secrets/db.txt", Missing: "app/secrets/db.txt", IgnoredBy: "app/.gitignore"},
			msg:   `app/kustomization.yaml:4: secretGenerator file "password=secrets/db.txt" does not exist in the repository; it is ignored by app/.gitignore, so it was never committed`,
		},
		{
			name:  "secretGenerator env file",
			files: kust("secretGenerator:\n- name: db\n  envs:\n  - db.env\n", ".gitignore", "*.env\n"),
			want:  MissingFileError{File: k, Line: 4, What: "secretGenerator env file", Entry: "db.env", Missing: "app/db.env", IgnoredBy: ".gitignore"},
			msg:   `app/kustomization.yaml:4: secretGenerator env file "db.env" does not exist in the repository; it is ignored by .gitignore, so it was never committed`,
		},
		{
			name:  "configMapGenerator env file",
			files: kust("configMapGenerator:\n- name: settings\n  envs:\n  - settings.env\n"),
			want:  MissingFileError{File: k, Line: 4, What: "configMapGenerator env file", Entry: "settings.env", Missing: "app/settings.env"},
			msg:   `app/kustomization.yaml:4: configMapGenerator env file "settings.env" does not exist in the repository`,
		},
		{
			name:  "resource of a base",
			files: kust("resources:\n- ../base\n", "base/kustomization.yaml", "resources:\n- deploy.yaml\n"),
			want:  MissingFileError{File: "base/kustomization.yaml", Line: 2, What: "resource", Entry: "deploy.yaml", Missing: "base/deploy.yaml"},
			msg:   `base/kustomization.yaml:2: resource "deploy.yaml" does not exist in the repository`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Build(t.Context(), writeTree(t, tt.files), "app", DefaultLimits())
			got, ok := errors.AsType[*MissingFileError](err)
			if !ok {
				t.Fatalf("err = %v (%T), want *MissingFileError", err, err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("MissingFileError (-want +got):\n%s", diff)
			}
			if err.Error() != tt.msg {
				t.Errorf("err = %q\nwant  %q", err, tt.msg)
			}
			if !IsTerminal(err) {
				t.Error("a missing file is not terminal")
			}
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrPathNotFound) {
				t.Error("a missing entry reads as a missing path")
			}
		})
	}
}
