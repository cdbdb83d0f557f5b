// Package chart is `capstan chart pull`: vendoring a Helm chart into a
// kustomization directory, where the build renders it from, and keeping
// its helmCharts entry pinned to what was vendored.
package chart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/capstan-gitops/capstan/internal/chartpull"
	"github.com/capstan-gitops/capstan/internal/redact"
)

// UserError is a refusal shown as one line and a hint; Err, if set, is
// what it wraps.
type UserError struct {
	Msg, Advice string
	Err         error
}

// Unwrap is the wrapped error.
func (e *UserError) Unwrap() error { return e.Err }

// Error is the one line.
func (e *UserError) Error() string { return e.Msg }

// Hint is what to do about it.
func (e *UserError) Hint() string { return e.Advice }

// Credentials are the user name and password for the chart repository or
// registry; sent to its host only.
type Credentials struct {
	Username, Password string
}

// PullOptions are those of `capstan chart pull NAME`.
type PullOptions struct {
	// Dir is the kustomization's directory.
	Dir                 string
	Name, Repo, Version string
	// ReleaseName of a new entry; default Name.
	ReleaseName string
	Creds       Credentials
	// Timeout bounds each request; default one minute.
	Timeout time.Duration
	// Limits bound the archive; zero means chartpull.DefaultLimits.
	Limits chartpull.Limits
}

// kustomizationNames are the file names kustomize looks for, in its order.
var kustomizationNames = [...]string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// kustomizationFile is the kustomization of dir, or kustomization.yaml if
// there is none yet.
func kustomizationFile(dir string) (file string, data []byte, err error) {
	for _, n := range kustomizationNames {
		file = filepath.Join(dir, n)
		data, err = os.ReadFile(file)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			return file, data, err
		}
	}
	return filepath.Join(dir, kustomizationNames[0]), nil, nil
}

// chartHome is the kustomization's chartHome as a directory, refused if it
// leaves dir.
func chartHome(dir, home, file string) (string, error) {
	clean := path.Clean(filepath.ToSlash(home))
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", &UserError{Msg: fmt.Sprintf("%s: helmGlobals.chartHome %q is outside the kustomization's directory", file, home),
			Advice: "vendor charts inside the kustomization's directory, such as chartHome: charts"}
	}
	return filepath.Join(dir, filepath.FromSlash(clean)), nil
}

func fetcher(o chartpull.Limits, creds Credentials, host string, timeout time.Duration) *chartpull.Fetcher {
	if timeout <= 0 {
		timeout = time.Minute
	}
	f := chartpull.NewFetcher(chartpull.Credentials{Host: host, Username: creds.Username, Password: creds.Password}, timeout)
	if o != (chartpull.Limits{}) {
		f.Limits = o
	}
	return f
}

// Pull vendors chart opts.Name at opts.Version from opts.Repo into
// <dir>/<chartHome>/<name>-<version>/<name>/, pins the kustomization's
// helmCharts entry to it (adding one if there is none) and removes the
// versions it replaced. It reports what it did on out.
func Pull(ctx context.Context, opts PullOptions, out io.Writer) error {
	if opts.Name == "" || strings.ContainsAny(opts.Name, `/\`) || opts.Name == "." || opts.Name == ".." {
		return &UserError{Msg: fmt.Sprintf("%q is not a chart name", opts.Name), Advice: "name the chart as the repository does, such as nats"}
	}
	file, data, err := kustomizationFile(opts.Dir)
	if err != nil {
		return fmt.Errorf("reading the kustomization: %w", err)
	}
	k, err := chartpull.ReadKustomization(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if opts.Repo == "" {
		opts.Repo = pinnedRepo(k, opts.Name)
	}
	if opts.Repo == "" || opts.Version == "" {
		return &UserError{Msg: "chart " + opts.Name + ": --repo and --version are required",
			Advice: "capstan chart pull " + opts.Name + " --repo https://CHARTS/ (or oci://REGISTRY/PATH) --version X.Y.Z"}
	}
	home, err := chartHome(opts.Dir, k.ChartHome, file)
	if err != nil {
		return err
	}
	f := fetcher(opts.Limits, opts.Creds, chartpull.HostOf(opts.Repo), opts.Timeout)
	p, err := f.Pull(ctx, opts.Repo, opts.Name, opts.Version)
	if err != nil {
		return pullError(opts.Name, opts.Repo, err)
	}
	v := p.Archive.Version
	vendored := filepath.Join(home, opts.Name+"-"+v)
	if err := chartpull.Replace(vendored, p.Chart.Files.Prefix(opts.Name)); err != nil {
		return fmt.Errorf("vendoring %s %s: %w", opts.Name, v, err)
	}
	release := opts.ReleaseName
	if release == "" {
		release = opts.Name
	}
	edited, old, err := chartpull.SetChart(data, chartpull.Entry{Name: opts.Name, Version: v, Repo: opts.Repo, ReleaseName: release})
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := writeKeepingMode(file, edited); err != nil {
		return err
	}
	fmt.Fprintf(out, "pulled %s %s from %s (%s)\n", opts.Name, v, p.Archive.Source, p.Archive.Digest)
	for _, d := range p.Fetched {
		fmt.Fprintf(out, "  dependency %s %s from %s (%s)\n", d.Name, d.Version, d.Source, d.Digest)
	}
	fmt.Fprintf(out, "vendored %d files in %s\n", len(p.Chart.Files), rel(opts.Dir, filepath.Join(vendored, opts.Name)))
	action := "added to"
	if len(data) == 0 {
		action = "written to new"
	} else if hasEntry(k, opts.Name) {
		action = "pinned in"
	}
	fmt.Fprintf(out, "helmCharts entry %s %s %s %s\n", opts.Name, v, action, rel(opts.Dir, file))
	for _, o := range old {
		gone := filepath.Join(home, opts.Name+"-"+o)
		if err := os.RemoveAll(gone); err != nil {
			return fmt.Errorf("removing %s: %w", gone, err)
		}
		fmt.Fprintf(out, "removed %s (was %s)\n", rel(opts.Dir, gone), o)
	}
	return nil
}

func pinnedRepo(k chartpull.Kustomization, name string) string {
	for _, e := range k.Entries {
		if e.Name == name && e.Repo != "" {
			return e.Repo
		}
	}
	return ""
}

func hasEntry(k chartpull.Kustomization, name string) bool {
	for _, e := range k.Entries {
		if e.Name == name {
			return true
		}
	}
	return false
}

// pullError adds a hint to the refusals a user can act on.
func pullError(name, repo string, err error) error {
	switch {
	case errors.Is(err, chartpull.ErrUnauthorized):
		return &UserError{Msg: err.Error(), Err: err, Advice: "set CAPSTAN_CHART_USERNAME and CAPSTAN_CHART_PASSWORD (or --username and --password-stdin) for " + redact.URL(repo)}
	case errors.Is(err, chartpull.ErrNotFound):
		return &UserError{Msg: err.Error(), Err: err, Advice: "check the chart's name and version in " + redact.URL(repo)}
	case errors.Is(err, chartpull.ErrDigest), errors.Is(err, chartpull.ErrUnsafe):
		return &UserError{Msg: err.Error(), Err: err, Advice: "nothing was written; the archive of " + name + " is not what the repository promises, or not safe to unpack"}
	case errors.Is(err, chartpull.ErrDependency):
		return &UserError{Msg: err.Error(), Err: err, Advice: "vendor the dependency into the chart's charts/ folder by hand (helm dependency build), or ask the chart's publisher to package it"}
	}
	return err
}

// writeKeepingMode replaces file's content, keeping its mode if it exists.
func writeKeepingMode(file string, data []byte) error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(file); err == nil {
		mode = st.Mode().Perm()
	}
	if err := os.WriteFile(file, data, mode); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	return nil
}

// rel is p relative to dir, for output.
func rel(dir, p string) string {
	if r, err := filepath.Rel(dir, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}
