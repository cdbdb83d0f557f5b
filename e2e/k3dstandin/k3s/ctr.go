package main

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// recordDir keeps every imported stream as a tarball.
	recordDir = "/var/lib/standin/images"
	// RecordFile lists the tags of every imported image, one a line.
	recordFile = "/var/lib/standin/images.txt"
)

// runCtr implements `ctr image import [--all-platforms] -|FILE` and
// `ctr image ls -q`. An import reads the docker-save stream up to the end
// of its tar archive (k3d never closes the exec's stdin, so EOF never
// comes), keeps it, and appends the RepoTags of its manifest.json to
// recordFile.
func runCtr(args []string, stdin io.Reader, stdout io.Writer) error {
	var words []string
	for _, a := range args {
		if !strings.HasPrefix(a, "--") || a == "-" {
			words = append(words, a)
		}
	}
	if len(words) >= 2 && (words[0] == "image" || words[0] == "images") && (words[1] == "ls" || words[1] == "list") {
		b, err := os.ReadFile(recordFile)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		_, err = stdout.Write(b)
		return err
	}
	if len(words) != 3 || (words[0] != "image" && words[0] != "images") || words[1] != "import" {
		return fmt.Errorf("ctr stand-in: unsupported arguments %q", args)
	}
	in := stdin
	if words[2] != "-" {
		f, err := os.Open(words[2])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	tags, err := importStream(in)
	if err != nil {
		return fmt.Errorf("importing images: %w", err)
	}
	for _, t := range tags {
		fmt.Fprintf(stdout, "unpacking %s...done\n", t)
	}
	return nil
}

func importStream(in io.Reader) ([]string, error) {
	if err := os.MkdirAll(recordDir, 0o755); err != nil {
		return nil, err
	}
	out, err := os.CreateTemp(recordDir, time.Now().UTC().Format("20060102T150405")+"-*.tar")
	if err != nil {
		return nil, err
	}
	defer out.Close()
	tr := tar.NewReader(io.TeeReader(in, out))
	var tags []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if filepath.Clean(h.Name) != "manifest.json" {
			continue
		}
		var manifest []struct{ RepoTags []string }
		if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
			return nil, fmt.Errorf("reading manifest.json: %w", err)
		}
		for _, m := range manifest {
			tags = append(tags, m.RepoTags...)
		}
	}
	// k3d streams the whole file, which may go on after the end of the
	// archive; a ctr that exits before reading it makes k3d's copier fail
	// with "read/write on closed pipe". On a loaded machine k3d's copier can
	// pause for seconds (a 2 s window failed under a full e2e run), so the
	// stream counts as finished only after 10 s of silence.
	drain(in, 10*time.Second)
	if len(tags) == 0 {
		return nil, errors.New("no tagged image in the stream")
	}
	f, err := os.OpenFile(recordFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	_, err = f.WriteString(strings.Join(tags, "\n") + "\n")
	return tags, err
}

// drain reads r until it ends or nothing arrives for idle: k3d never
// closes the stream.
func drain(r io.Reader, idle time.Duration) {
	got := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				select {
				case got <- struct{}{}:
				default:
				}
			}
			if err != nil {
				close(got)
				return
			}
		}
	}()
	for {
		select {
		case _, ok := <-got:
			if !ok {
				return
			}
		case <-time.After(idle):
			return
		}
	}
}
