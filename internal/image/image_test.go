package image_test

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/capstan-gitops/capstan/internal/image"
)

// helloBinary builds testdata/hello, which prints "ok", as a static
// executable for this machine.
func helloBinary(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("runs the linux test executable")
	}
	out := filepath.Join(t.TempDir(), "hello")
	if err := image.BuildBinary(t.Context(), "testdata/hello", ".", runtime.GOARCH, out); err != nil {
		t.Fatalf("building the test executable: %v", err)
	}
	return out
}

func TestBuild(t *testing.T) {
	t.Parallel()
	bin := helloBinary(t)
	const ref = "ghcr.io/capstan-gitops/capstan:v0.1.0"
	out := filepath.Join(t.TempDir(), "capstan.tar")
	if err := image.Build(t.Context(), image.Options{Binary: bin, Ref: ref, Output: out}); err != nil {
		t.Fatalf("Build: %v", err)
	}

	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(out) })
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || !cmp.Equal(m[0].RepoTags, []string{ref}) {
		t.Errorf("tarball manifest %+v, want one image tagged %s", m, ref)
	}

	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatalf("reading the tarball back: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	want := v1.Config{
		Entrypoint: []string{"/capstan"},
		Cmd:        []string{"controller"},
		User:       "65532:65532",
		WorkingDir: "/",
		Env:        []string{"HOME=/tmp"},
		Labels:     map[string]string{image.VersionLabel: "v0.1.0", image.SourceLabel: image.Source},
	}
	if diff := cmp.Diff(want, cf.Config); diff != "" {
		t.Errorf("image config (-want +got):\n%s", diff)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s, want linux/%s", cf.OS, cf.Architecture, runtime.GOARCH)
	}

	got := runFromLayer(t, img)
	if got != "ok\n" {
		t.Errorf("the executable from the layer printed %q, want \"ok\\n\"", got)
	}
}

// runFromLayer checks the single layer holds /capstan with mode 0755,
// extracts it and runs it.
func runFromLayer(t *testing.T, img v1.Image) string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v; want one", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	exe := filepath.Join(t.TempDir(), "capstan")
	found := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "capstan" {
			continue
		}
		found = true
		if h.Mode != 0o755 || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("/capstan mode %o uid %d gid %d, want 755, 0, 0", h.Mode, h.Uid, h.Gid)
		}
		f, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY, os.FileMode(h.Mode))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, tr); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatal("no /capstan in the layer")
	}
	out, err := exec.CommandContext(t.Context(), exe).Output()
	if err != nil {
		t.Fatalf("running the extracted executable: %v", err)
	}
	return string(out)
}

func TestBuildIsReproducible(t *testing.T) {
	t.Parallel()
	bin := helloBinary(t)
	var digests []v1.Hash
	for range 2 {
		img, err := image.New(bin, "dev")
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	if digests[0] != digests[1] {
		t.Errorf("two builds of the same executable differ: %s, %s", digests[0], digests[1])
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	bin := helloBinary(t)
	text := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(text, []byte("#!/bin/sh\necho ok\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts image.Options
		want string
	}{
		{name: "not an ELF file", opts: image.Options{Binary: text, Ref: "capstan:dev"}, want: "not an ELF file"},
		{name: "missing executable", opts: image.Options{Binary: filepath.Join(t.TempDir(), "nope"), Ref: "capstan:dev"}, want: "no such file"},
		{name: "digest reference", opts: image.Options{Binary: bin, Ref: "capstan@sha256:" + strings.Repeat("0", 64)}, want: "image reference"},
		{name: "missing output dir", opts: image.Options{Binary: bin, Ref: "capstan:dev", Output: filepath.Join(t.TempDir(), "no", "dir.tar")}, want: "writing image tarball"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := image.Build(t.Context(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build = %v, want an error with %q", err, tt.want)
			}
		})
	}
}
