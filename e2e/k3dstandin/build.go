package k3dstandin

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
)

// entry is one file of a build context: a copy of src, literal data, a
// symlink, or a directory.
type entry struct {
	src  string
	data []byte
	link string
	dir  bool
	mode int64
}

// buildContext maps slash paths to entries.
type buildContext map[string]entry

// epoch is every entry's modification time, so that equal inputs give an
// equal context and hash.
var epoch = time.Unix(0, 0)

// writeTar writes the context as a tar stream, in path order, with parent
// directories first.
func (c buildContext) writeTar(w io.Writer) error {
	tw := tar.NewWriter(w)
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	slices.Sort(names)
	seen := map[string]bool{}
	for _, name := range names {
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			if _, explicit := c[dir]; !explicit && !seen[dir] {
				seen[dir] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: epoch}); err != nil {
					return err
				}
			}
		}
		if err := c[name].write(tw, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return tw.Close()
}

func (e entry) write(tw *tar.Writer, name string) error {
	h := &tar.Header{Name: name, Mode: e.mode, ModTime: epoch}
	if h.Mode == 0 {
		h.Mode = 0o644
	}
	switch {
	case e.dir:
		h.Typeflag, h.Name = tar.TypeDir, name+"/"
		return tw.WriteHeader(h)
	case e.link != "":
		h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, e.link, 0o777
		return tw.WriteHeader(h)
	case e.src != "":
		f, err := os.Open(e.src)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		h.Typeflag, h.Size = tar.TypeReg, st.Size()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		return err
	default:
		h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(e.data)
		return err
	}
}

// ensureImage writes the context to a file in work while hashing it, and
// builds image from it unless an image of that name carries the hash.
func ensureImage(ctx context.Context, cli *client.Client, image string, bc buildContext, work string) (bool, error) {
	f, err := os.CreateTemp(work, "context-*.tar")
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if err := bc.writeTar(io.MultiWriter(f, h)); err != nil {
		return false, fmt.Errorf("writing build context: %w", err)
	}
	hash := hex.EncodeToString(h.Sum(nil))
	inspect, _, err := cli.ImageInspectWithRaw(ctx, image)
	switch {
	case err == nil && inspect.Config != nil && inspect.Config.Labels[HashLabel] == hash:
		return false, nil
	case err != nil && !errdefs.IsNotFound(err):
		return false, fmt.Errorf("inspecting: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	resp, err := cli.ImageBuild(ctx, f, types.ImageBuildOptions{
		Tags: []string{image}, Labels: map[string]string{HashLabel: hash},
		Remove: true, ForceRemove: true, Dockerfile: "Dockerfile",
	})
	if err != nil {
		return false, fmt.Errorf("building: %w", err)
	}
	defer resp.Body.Close()
	if err := readBuildOutput(resp.Body); err != nil {
		return false, fmt.Errorf("building: %w", err)
	}
	return true, nil
}

// readBuildOutput reads the engine's JSON build messages to the end and
// returns the error one of them reports, with the log before it.
func readBuildOutput(r io.Reader) error {
	dec := json.NewDecoder(r)
	var log strings.Builder
	for {
		var msg struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading build output: %w", err)
		}
		log.WriteString(msg.Stream)
		if msg.Error != "" {
			return fmt.Errorf("%s\n%s", msg.Error, log.String())
		}
	}
}
