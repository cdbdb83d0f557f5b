package chartpull

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Helm's OCI artifact media types.
const (
	// ConfigMediaType is the config blob of a Helm chart artifact.
	ConfigMediaType = "application/vnd.cncf.helm.config.v1+json"
	// ChartLayerMediaType is the layer holding the chart archive.
	ChartLayerMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	// legacyChartLayerMediaType is what Helm 3.0-3.6 pushed.
	legacyChartLayerMediaType = "application/tar+gzip"
)

// ociRepository is the repository of chart name under oci://REGISTRY/PATH.
func ociRepository(repo, chart string) (name.Repository, error) {
	path := strings.TrimSuffix(strings.TrimPrefix(repo, "oci://"), "/") + "/" + chart
	r, err := name.NewRepository(path)
	if err != nil {
		return name.Repository{}, fmt.Errorf("OCI repository %q: %w", path, err)
	}
	return r, nil
}

func (f *Fetcher) ociOptions(ctx context.Context, repo string) []remote.Option {
	opts := []remote.Option{remote.WithContext(ctx)}
	if f.Client != nil && f.Client.Transport != nil {
		opts = append(opts, remote.WithTransport(f.Client.Transport))
	}
	if user, pass, ok := f.Creds.For(repo); ok {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: user, Password: pass}))
	}
	return opts
}

func (f *Fetcher) fetchOCI(ctx context.Context, repo, chart, version string) (*Archive, error) {
	if f.Client != nil && f.Client.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.Client.Timeout)
		defer cancel()
	}
	r, err := ociRepository(repo, chart)
	if err != nil {
		return nil, err
	}
	where := "oci://" + r.Name()
	opts := f.ociOptions(ctx, repo)
	v, err := f.ociVersion(ctx, r, version, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	// OCI tags cannot hold "+": Helm pushes 1.0.0+build as 1.0.0_build.
	ref := r.Tag(strings.ReplaceAll(v, "+", "_"))
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", where, ref.TagStr(), ociError(err))
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, fmt.Errorf("%s:%s: manifest: %w", where, ref.TagStr(), err)
	}
	if m.Config.MediaType != ConfigMediaType {
		return nil, fmt.Errorf("%s:%s is not a Helm chart: its config is %q, not %s", where, ref.TagStr(), m.Config.MediaType, ConfigMediaType)
	}
	layer, err := chartLayer(m)
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", where, ref.TagStr(), err)
	}
	if layer.Size > f.Limits.Archive {
		return nil, fmt.Errorf("%s:%s: the chart layer has %d bytes, more than the limit of %d: %w", where, ref.TagStr(), layer.Size, f.Limits.Archive, ErrUnsafe)
	}
	data, err := f.ociBlob(r.Digest(layer.Digest.String()), layer.Size, opts)
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", where, ref.TagStr(), err)
	}
	digest, err := verify(data, layer.Digest.Hex, fmt.Sprintf("%s:%s layer %s", where, ref.TagStr(), layer.Digest))
	if err != nil {
		return nil, err
	}
	return &Archive{Name: chart, Version: v, Data: data, Digest: digest, Source: where + ":" + ref.TagStr()}, nil
}

// ociVersion is version if it is a tag's version, else the highest tagged
// version satisfying it as a range.
func (f *Fetcher) ociVersion(ctx context.Context, r name.Repository, version string, opts []remote.Option) (string, error) {
	if _, err := semver.StrictNewVersion(version); err == nil {
		return version, nil // a version, not a range: its tag is fetched
	}
	tags, err := remote.List(r, opts...)
	if err != nil {
		return "", fmt.Errorf("listing tags: %w", ociError(err))
	}
	have := make([]string, len(tags))
	for i, t := range tags {
		have[i] = strings.ReplaceAll(t, "_", "+")
	}
	return pickVersion(have, version)
}

// chartLayer is the manifest's chart layer.
func chartLayer(m *v1.Manifest) (v1.Descriptor, error) {
	for _, l := range m.Layers {
		if l.MediaType == ChartLayerMediaType || l.MediaType == legacyChartLayerMediaType {
			return l, nil
		}
	}
	return v1.Descriptor{}, fmt.Errorf("no layer of type %s", ChartLayerMediaType)
}

// ociBlob reads a blob of at most size bytes.
func (f *Fetcher) ociBlob(ref name.Digest, size int64, opts []remote.Option) ([]byte, error) {
	l, err := remote.Layer(ref, opts...)
	if err != nil {
		return nil, ociError(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, ociError(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, size+1))
	if err != nil {
		return nil, fmt.Errorf("reading the chart layer: %w: %w", ErrDigest, err)
	}
	return data, nil
}

// ociError maps a registry's 401/403/404 to ErrUnauthorized/ErrNotFound.
func ociError(err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w: %w", ErrUnauthorized, err)
		case http.StatusNotFound:
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
	}
	return err
}
