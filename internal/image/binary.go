package image

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// ErrUnsuitableBinary means an executable cannot go into the image: it is
// not a statically linked linux ELF file.
var ErrUnsuitableBinary = errors.New("not a static linux executable")

// goarch maps an ELF machine and byte order to a GOARCH value.
func goarch(m elf.Machine, order binary.ByteOrder) (string, bool) {
	little := order == binary.LittleEndian
	switch {
	case m == elf.EM_X86_64:
		return "amd64", true
	case m == elf.EM_AARCH64:
		return "arm64", true
	case m == elf.EM_386:
		return "386", true
	case m == elf.EM_ARM:
		return "arm", true
	case m == elf.EM_RISCV:
		return "riscv64", true
	case m == elf.EM_PPC64 && little:
		return "ppc64le", true
	case m == elf.EM_S390 && !little:
		return "s390x", true
	}
	return "", false
}

// Arch returns the GOARCH of the static linux executable at path, or an
// error wrapping ErrUnsuitableBinary that says what is wrong with it.
func Arch(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return "", fmt.Errorf("%w: %s is not an ELF file", ErrUnsuitableBinary, path)
		}
		return "", fmt.Errorf("reading executable: %w", err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return "", fmt.Errorf("%w: %s is an ELF %s, not an executable", ErrUnsuitableBinary, path, f.Type)
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return "", fmt.Errorf("%w: %s is built for %s", ErrUnsuitableBinary, path, f.OSABI)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("%w: %s is dynamically linked; build it with CGO_ENABLED=0", ErrUnsuitableBinary, path)
		}
	}
	arch, ok := goarch(f.Machine, f.ByteOrder)
	if !ok {
		return "", fmt.Errorf("%w: %s is for an unsupported machine %s", ErrUnsuitableBinary, path, f.Machine)
	}
	return arch, nil
}

// Executable returns the path of the running program when it can go into
// the image as it is: a static linux executable for arch. This is what
// bootstrap should use, since a release build of the CLI then ships its own
// executable into the cluster and the controller runs the very same code.
// Where it fails (the CLI runs on macOS, or was built with cgo), only a
// development build should fall back to BuildBinary.
func Executable(arch string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the running executable: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	got, err := Arch(exe)
	if err != nil {
		return "", err
	}
	if got != arch {
		return "", fmt.Errorf("%w: %s is for linux/%s, the cluster needs linux/%s", ErrUnsuitableBinary, exe, got, arch)
	}
	return exe, nil
}

// BuildBinary compiles the main package pkg (such as "./cmd/capstan") of the
// Go module in dir into a static executable for linux/arch at out, with
// CGO_ENABLED=0 and -trimpath. It runs the go command, which the user may
// not have: it is a fallback for development builds only; see Executable.
func BuildBinary(ctx context.Context, dir, pkg, arch, out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("building %s: %w", pkg, err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", abs, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s for linux/%s: %w: %s", pkg, arch, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}
