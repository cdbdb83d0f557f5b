package image_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/capstan-gitops/capstan/internal/image"
)

func TestArch(t *testing.T) {
	t.Parallel()
	native := helloBinary(t)
	arm64 := filepath.Join(t.TempDir(), "hello-arm64")
	if err := image.BuildBinary(t.Context(), "testdata/hello", ".", "arm64", arm64); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(t.TempDir(), "text")
	if err := os.WriteFile(text, []byte("not a program\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
		unsuitable       bool
	}{
		{name: "static native", path: native, want: runtime.GOARCH},
		{name: "static arm64", path: arm64, want: "arm64"},
		{name: "text file", path: text, unsuitable: true},
		{name: "dynamically linked", path: dynamicExecutable(t), unsuitable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.path == "" {
				t.Skip("no dynamically linked executable on this system")
			}
			got, err := image.Arch(tt.path)
			if tt.unsuitable {
				if !errors.Is(err, image.ErrUnsuitableBinary) {
					t.Errorf("Arch(%s) = %q, %v; want ErrUnsuitableBinary", tt.path, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Arch(%s) = %q, %v; want %q", tt.path, got, err, tt.want)
			}
		})
	}
}

// dynamicExecutable returns a dynamically linked system program, if any.
func dynamicExecutable(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/bin/ls", "/usr/bin/env", "/bin/sh"} {
		if _, err := image.Arch(p); errors.Is(err, image.ErrUnsuitableBinary) {
			return p
		}
	}
	return ""
}

func TestExecutableWrongArch(t *testing.T) {
	t.Parallel()
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	if _, err := image.Executable(other); !errors.Is(err, image.ErrUnsuitableBinary) {
		t.Errorf("Executable(%s) = %v, want ErrUnsuitableBinary", other, err)
	}
}

func TestBuildBinaryError(t *testing.T) {
	t.Parallel()
	err := image.BuildBinary(t.Context(), "testdata/hello", "./nonexistent", runtime.GOARCH, filepath.Join(t.TempDir(), "x"))
	if err == nil {
		t.Error("BuildBinary of a missing package succeeded")
	}
}
