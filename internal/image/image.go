// Package image builds Capstan's controller image without Docker or a
// registry: an empty base plus one layer holding the static capstan
// executable at /capstan, written as a docker-save tarball that
// `ctr image import`, and so k3d's image import, loads.
//
// The image is reproducible: the same executable and options give the same
// digest, because every timestamp in it is the Unix epoch.
package image

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The image's fixed shape.
const (
	// BinaryPath is where the executable sits in the image.
	BinaryPath = "/capstan"
	// User is the unprivileged user and group the controller runs as.
	User = "65532:65532"
	// VersionLabel carries the Capstan version.
	VersionLabel = "org.opencontainers.image.version"
	// SourceLabel names the source repository.
	SourceLabel = "org.opencontainers.image.source"
	// Source is the value of SourceLabel.
	Source = "https://github.com/capstan-gitops/capstan"
)

// epoch is every timestamp in the image, so builds are reproducible.
var epoch = time.Unix(0, 0).UTC()

// Options describe one image build.
type Options struct {
	// Binary is a static linux executable of Capstan (see Executable).
	Binary string
	// Ref is the tag the image gets, e.g. ghcr.io/capstan-gitops/capstan:v0.1.0.
	Ref string
	// Version is the value of VersionLabel (default: the tag of Ref).
	Version string
	// Output is the path of the tarball to write.
	Output string
}

// Build writes the image for opts to opts.Output, replacing it atomically.
func Build(ctx context.Context, opts Options) error {
	tag, err := name.NewTag(opts.Ref)
	if err != nil {
		return fmt.Errorf("image reference %q: %w", opts.Ref, err)
	}
	if opts.Version == "" {
		opts.Version = tag.TagStr()
	}
	img, err := New(opts.Binary, opts.Version)
	if err != nil {
		return err
	}
	return write(ctx, opts.Output, tag, img)
}

// New returns the image around the executable at binary: its architecture
// is the executable's, its entrypoint runs `capstan controller` as User.
func New(binary, version string) (v1.Image, error) {
	arch, err := Arch(binary)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return layerTar(binary) })
	if err != nil {
		return nil, fmt.Errorf("image layer from %s: %w", binary, err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "capstan: COPY capstan " + BinaryPath},
	})
	if err != nil {
		return nil, fmt.Errorf("adding the layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: epoch}
	cf.Config = v1.Config{
		Entrypoint: []string{BinaryPath},
		Cmd:        []string{"controller"},
		User:       User,
		WorkingDir: "/",
		Env:        []string{"HOME=/tmp"},
		Labels:     map[string]string{VersionLabel: version, SourceLabel: Source},
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("setting the image config: %w", err)
	}
	return img, nil
}

// layerTar streams the layer: a world-writable /tmp (HOME) and the
// executable at BinaryPath, owned by root and mode 0755.
func layerTar(binary string) (io.ReadCloser, error) {
	f, err := os.Open(binary)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		defer f.Close()
		pw.CloseWithError(writeLayer(pw, f, fi.Size()))
	}()
	return pr, nil
}

func writeLayer(w io.Writer, bin io.Reader, size int64) error {
	tw := tar.NewWriter(w)
	headers := []*tar.Header{
		{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: epoch, Format: tar.FormatPAX},
		{Typeflag: tar.TypeReg, Name: BinaryPath[1:], Mode: 0o755, Size: size, ModTime: epoch, Format: tar.FormatPAX},
	}
	for _, h := range headers {
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
	}
	n, err := io.Copy(tw, bin)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("executable changed while it was read: %d of %d bytes", n, size)
	}
	return tw.Close()
}

// write saves img under tag as a docker-save tarball at path, through a
// temporary file so a failed or cancelled build leaves nothing half-written.
func write(ctx context.Context, path string, tag name.Tag, img v1.Image) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".image-*.tar")
	if err != nil {
		return fmt.Errorf("writing image tarball: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = tarball.Write(tag, img, &ctxWriter{ctx: ctx, w: tmp})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing image tarball %s: %w", path, err)
	}
	return nil
}

// ctxWriter stops a long write when its context ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
