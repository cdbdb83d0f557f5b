package chartpull

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/capstan-gitops/capstan/internal/redact"
)

// maxIndex bounds a repository's index.yaml (large public ones are ~20 MiB).
const maxIndex = 64 << 20

// index is what pulling reads of a chart repository's index.yaml.
type index struct {
	Entries map[string][]indexEntry `json:"entries"`
}

type indexEntry struct {
	Version string   `json:"version"`
	URLs    []string `json:"urls"`
	Digest  string   `json:"digest"`
}

func (f *Fetcher) fetchHTTP(ctx context.Context, repo, name, version string) (*Archive, error) {
	base := strings.TrimSuffix(repo, "/") + "/"
	where := redact.URL(base)
	data, err := f.get(ctx, base+"index.yaml", base, maxIndex)
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %w", where, err)
	}
	var idx index
	if err := yaml.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("chart repository %s: index.yaml: %w", where, err)
	}
	entries := idx.Entries[name]
	if len(entries) == 0 {
		return nil, fmt.Errorf("chart repository %s: chart %q: %w", where, name, ErrNotFound)
	}
	have := make([]string, len(entries))
	for i, e := range entries {
		have[i] = e.Version
	}
	v, err := pickVersion(have, version)
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: chart %q %w", where, name, err)
	}
	var e indexEntry
	for _, c := range entries {
		if c.Version == v {
			e = c
			break
		}
	}
	if len(e.URLs) == 0 {
		return nil, fmt.Errorf("chart repository %s: %s %s has no URL in index.yaml", where, name, v)
	}
	if e.Digest == "" {
		return nil, fmt.Errorf("chart repository %s: %s %s has no digest in index.yaml: %w (a chart that cannot be verified is not pulled)", where, name, v, ErrDigest)
	}
	chartURL, err := resolve(base, e.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %s %s: %w", where, name, v, err)
	}
	archive, err := f.get(ctx, chartURL, base, f.Limits.Archive)
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %s %s: %w", where, name, v, err)
	}
	digest, err := verify(archive, e.Digest, redact.URL(chartURL))
	if err != nil {
		return nil, err
	}
	return &Archive{Name: name, Version: v, Data: archive, Digest: digest, Source: redact.URL(chartURL)}, nil
}

// resolve makes a chart URL of index.yaml absolute against the repository.
func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("chart URL %q: %w", redact.URL(ref), err)
	}
	u := b.ResolveReference(r)
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("chart URL %q is not http(s)", redact.URL(u.String()))
	}
	return u.String(), nil
}

// get fetches rawURL, reading at most limit bytes, with the credentials
// that belong to repo's host if rawURL is on it.
func (f *Fetcher) get(ctx context.Context, rawURL, repo string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", redact.URL(rawURL), stripURL(err))
	}
	if user, pass, ok := f.Creds.For(rawURL); ok && HostOf(rawURL) == HostOf(repo) {
		req.SetBasicAuth(user, pass)
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", redact.URL(rawURL), stripURL(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("GET %s: %s: %w", redact.URL(rawURL), resp.Status, ErrUnauthorized)
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("GET %s: %s: %w", redact.URL(rawURL), resp.Status, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s: %s", redact.URL(rawURL), resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", redact.URL(rawURL), stripURL(err))
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("GET %s: more than the limit of %d bytes: %w", redact.URL(rawURL), limit, ErrUnsafe)
	}
	return data, nil
}

// stripURL drops the URL net/http puts in its errors (it may hold
// credentials); the caller names the redacted URL.
func stripURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
