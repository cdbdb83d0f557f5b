package helm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	ci "helm.sh/helm/v4/pkg/chart"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
)

// Defaults for zero fields of [Limits].
const (
	DefaultTimeout  = 10 * time.Second
	DefaultMaxBytes = 32 << 20
)

// DefaultReleaseName is the release name of an entry that names none, as
// `kustomize build --enable-helm` gives it.
const DefaultReleaseName = "release-name"

// DefaultNamespace is the release namespace of an entry that names none
// (and whose kustomizations set none), as `helm template` gives it.
const DefaultNamespace = "default"

// ErrLimit marks a render refused for exceeding a [Limits] bound.
var ErrLimit = errors.New("limit exceeded")

// Limits bounds one render. A zero field takes its default.
type Limits struct {
	// Timeout caps the time one chart may take to render.
	Timeout time.Duration
	// MaxBytes caps the size of one chart's rendered manifests, and of
	// any one string or list a template builds with repeat or until.
	MaxBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// File is one file of a chart, its slash path relative to the chart's
// directory.
type File struct {
	Name string
	Data []byte
}

// Chart is what one render needs: the chart's files and the options of
// `helm template`.
type Chart struct {
	// Name names the chart in errors.
	Name string
	// Files are the files of the chart's directory (its subcharts under
	// charts/ included). .helmignore is applied here.
	Files []File
	// ReleaseName defaults to [DefaultReleaseName]; NameTemplate, when
	// set, replaces it (as --name-template does).
	ReleaseName, NameTemplate string
	// Namespace is the release namespace (.Release.Namespace), by
	// default [DefaultNamespace].
	Namespace string
	// Values are the user-supplied values, those -f files give (see
	// [MergeValues]); the chart's own values.yaml is their base.
	Values map[string]any
	// IncludeCRDs adds the chart's crds/ files to the output.
	IncludeCRDs bool
	// SkipHooks drops every hook; test hooks are always dropped.
	SkipHooks bool
	// KubeVersion and APIVersions are the capabilities templates see;
	// empty means the Cluster's, or Helm's defaults without one.
	KubeVersion string
	APIVersions []string
	// Cluster, when set, gives the capabilities KubeVersion and
	// APIVersions leave out: the render then sees what `helm install`
	// against that cluster would see.
	Cluster *Capabilities
}

// Renderer renders charts within its Limits.
type Renderer struct {
	Limits Limits
}

// Render renders c as `helm template` does and returns the manifests as a
// YAML stream. A render that fails, takes longer than the timeout or
// produces more than the allowed bytes is an error naming the chart (and
// the template, where Helm names it). A render past its timeout cannot be
// stopped: it is abandoned and its result dropped.
func (r Renderer) Render(ctx context.Context, c Chart) ([]byte, error) {
	limits := r.Limits.withDefaults()
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("chart %s: rendering failed: %v", c.Name, p)}
			}
		}()
		out, err := render(ctx, c, limits)
		done <- result{out, err}
	}()
	timer := time.NewTimer(limits.Timeout)
	defer timer.Stop()
	select {
	case res := <-done:
		return res.out, res.err
	case <-timer.C:
		return nil, fmt.Errorf("chart %s: rendering took more than %s: %w", c.Name, limits.Timeout, ErrLimit)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func render(ctx context.Context, c Chart, limits Limits) ([]byte, error) {
	ch, err := load(c)
	if err != nil {
		return nil, err
	}
	cfg := action.NewConfiguration()
	cfg.SetLogger(slog.DiscardHandler)
	cfg.CustomTemplateFuncs = guardedFuncs(limits.MaxBytes)
	in := action.NewInstall(cfg)
	in.DryRunStrategy = action.DryRunClient
	in.Replace = true
	in.ReleaseName = c.ReleaseName
	if in.ReleaseName == "" {
		in.ReleaseName = DefaultReleaseName
	}
	if c.NameTemplate != "" {
		if c.ReleaseName != "" {
			return nil, fmt.Errorf("chart %s: releaseName and nameTemplate are both set: give one", c.Name)
		}
		if in.ReleaseName, err = action.TemplateName(c.NameTemplate); err != nil {
			return nil, fmt.Errorf("chart %s: nameTemplate: %w", c.Name, err)
		}
	}
	in.Namespace = c.Namespace
	if in.Namespace == "" {
		in.Namespace = DefaultNamespace
	}
	in.IncludeCRDs = c.IncludeCRDs
	in.DisableHooks = c.SkipHooks
	if err := setCapabilities(cfg, in, c); err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.Name, err)
	}
	values := c.Values
	if values == nil {
		values = map[string]any{}
	}
	rel, err := in.RunWithContext(ctx, ch, values)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.Name, shorten(err))
	}
	res, ok := rel.(*release.Release)
	if !ok {
		return nil, fmt.Errorf("chart %s: unexpected release type %T", c.Name, rel)
	}
	return manifests(c, res, limits.MaxBytes)
}

// setCapabilities gives the render the capabilities of [capabilities].
// Helm's client-only dry run (`helm template`) always adds its default API
// versions, which a cluster need not serve; with a cluster's capabilities
// the render is a server dry run instead whose capabilities are set
// beforehand, with no REST client (so `lookup` stays empty), a Kubernetes
// client that does nothing and releases kept in memory: nothing is
// contacted.
func setCapabilities(cfg *action.Configuration, in *action.Install, c Chart) error {
	caps, err := capabilities(c)
	if err != nil {
		return err
	}
	if caps != nil {
		cfg.Capabilities = caps
		cfg.KubeClient = &kubefake.PrintingKubeClient{Out: io.Discard}
		cfg.Releases = storage.Init(driver.NewMemory())
		in.DryRunStrategy = action.DryRunServer
		return nil
	}
	in.APIVersions = common.VersionSet(c.APIVersions)
	if c.KubeVersion != "" {
		v, err := common.ParseKubeVersion(c.KubeVersion)
		if err != nil {
			return fmt.Errorf("kubeVersion %q: %w", c.KubeVersion, err)
		}
		in.KubeVersion = v
	}
	return nil
}

// manifests assembles the output as `helm template` prints it: the
// manifests, then the hooks (but no test hook, and none with SkipHooks).
func manifests(c Chart, rel *release.Release, maxBytes int64) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(strings.TrimSpace(rel.Manifest))
	b.WriteString("\n")
	if !c.SkipHooks {
		for _, h := range rel.Hooks {
			if slices.Contains(h.Events, release.HookTest) {
				continue
			}
			fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
		}
	}
	if int64(b.Len()) > maxBytes {
		return nil, fmt.Errorf("chart %s: rendered %d bytes, more than the %d allowed (largest template: %s): %w",
			c.Name, b.Len(), maxBytes, largest(rel), ErrLimit)
	}
	return b.Bytes(), nil
}

// largest names the template with the most rendered bytes.
func largest(rel *release.Release) string {
	sizes := map[string]int{}
	for _, doc := range strings.Split(rel.Manifest, "\n---\n") {
		if src, ok := strings.CutPrefix(strings.TrimLeft(doc, "-\n"), "# Source: "); ok {
			name, _, _ := strings.Cut(src, "\n")
			sizes[name] += len(doc)
		}
	}
	for _, h := range rel.Hooks {
		sizes[h.Path] += len(h.Manifest)
	}
	best, n := "", -1
	for name, size := range sizes {
		if size > n || size == n && name < best {
			best, n = name, size
		}
	}
	return best
}

// load builds the chart from its files, applying .helmignore as Helm's
// directory loader does.
func load(c Chart) (*chart.Chart, error) {
	files, err := unignored(c.Files)
	if err != nil {
		return nil, fmt.Errorf("chart %s: .helmignore: %w", c.Name, err)
	}
	buffered := make([]*archive.BufferedFile, 0, len(files))
	for _, f := range files {
		data := bytes.TrimPrefix(f.Data, []byte("\xEF\xBB\xBF"))
		buffered = append(buffered, &archive.BufferedFile{Name: f.Name, Data: data})
	}
	ch, err := loader.LoadFiles(buffered)
	if err != nil {
		return nil, fmt.Errorf("chart %s: loading: %w", c.Name, err)
	}
	if err := installable(ch); err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.Name, err)
	}
	return ch, nil
}

// installable refuses what `helm template` refuses before rendering: a
// library chart, and dependencies missing from charts/.
func installable(ch *chart.Chart) error {
	if ch.Metadata.Type != "" && ch.Metadata.Type != "application" {
		return fmt.Errorf("%s charts are not installable", ch.Metadata.Type)
	}
	ac, err := ci.NewAccessor(ch)
	if err != nil {
		return err
	}
	if req := ac.MetaDependencies(); len(req) > 0 {
		if err := action.CheckDependencies(ch, req); err != nil {
			return fmt.Errorf("dependencies missing from its charts/ directory (vendor them with the chart): %w", err)
		}
	}
	return nil
}
