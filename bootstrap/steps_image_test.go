package bootstrap

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/capstan-gitops/capstan/components/repo"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// recordingImporter records the tarballs handed to the cluster.
type recordingImporter struct{ paths []string }

func (ri *recordingImporter) ImportImages(_ context.Context, images ...string) error {
	ri.paths = append(ri.paths, images...)
	return nil
}

// imageCommand reads the image tagged tag from a tarball and returns what it runs.
func imageCommand(t *testing.T, path, tag string) string {
	t.Helper()
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(path, &ref)
	if err != nil {
		t.Fatalf("no image %s in %s: %v", tag, path, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(append(cfg.Config.Entrypoint, cfg.Config.Cmd...), " ")
}

func TestImageStepBuildsAndImportsTheControllerImage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	main := filepath.Join(dir, "main.go")
	if err := os.WriteFile(main, []byte("package main\n\nfunc main() { println(\"ok\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "capstan")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, main)
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building a static test binary: %v\n%s", err, out)
	}
	imp := &recordingImporter{}
	r := &run{
		opts:    Options{ControllerBinary: bin, CLIVersion: "v0.4.0"},
		deps:    Deps{Images: imp},
		workDir: dir,
		in:      repo.Input{Settings: repo.Settings{Version: "v0.4.0"}},
	}
	if !slices.Contains(r.plan().Names(), "Image") {
		t.Fatalf("plan %v has no Image step although the cluster imports images", r.plan().Names())
	}
	note, err := r.importImage(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if note != "imported ghcr.io/capstan-gitops/capstan:v0.4.0" {
		t.Errorf("note = %q", note)
	}
	if len(imp.paths) != 1 {
		t.Fatalf("imported %v, want one tarball", imp.paths)
	}
	if cmd := imageCommand(t, imp.paths[0], "ghcr.io/capstan-gitops/capstan:v0.4.0"); cmd != "/capstan controller" {
		t.Errorf("the image runs %q, want /capstan controller", cmd)
	}

	r.in.Settings.Image = "registry.example.com/capstan:v0.4.0"
	note, err = r.importImage(t.Context())
	if err != nil || !strings.Contains(note, "from its registry") || len(imp.paths) != 1 {
		t.Errorf("with --image: note %q, err %v, imports %d; want nothing imported", note, err, len(imp.paths))
	}
}

func TestPlanWithoutImporterHasNoImageStep(t *testing.T) {
	t.Parallel()
	r := &run{}
	if slices.Contains(r.plan().Names(), "Image") {
		t.Errorf("plan %v has an Image step without an importer", r.plan().Names())
	}
}
