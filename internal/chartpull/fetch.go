package chartpull

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/capstan-gitops/capstan/internal/redact"
)

// ErrDigest is an archive whose content is not what the index or the
// registry says it is.
var ErrDigest = errors.New("digest mismatch")

// ErrNotFound is a chart or version the repository does not have.
var ErrNotFound = errors.New("not found")

// ErrUnauthorized is a repository or registry that refused the
// credentials (or their absence).
var ErrUnauthorized = errors.New("unauthorized")

// Credentials are basic-auth credentials, sent only to Host (a host:port
// as in the repository's URL), never to a chart or dependency elsewhere.
type Credentials struct {
	Host, Username, Password string
}

// For returns the credentials to send to the repository at rawURL.
func (c Credentials) For(rawURL string) (user, pass string, ok bool) {
	if c.Username == "" && c.Password == "" {
		return "", "", false
	}
	return c.Username, c.Password, c.Host != "" && HostOf(rawURL) == c.Host
}

// HostOf is the host:port of a repository URL (oci:// included), to give
// Credentials; "" if it does not parse.
func HostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// IsOCI says whether repo names an OCI registry (oci://) rather than an
// HTTP chart repository.
func IsOCI(repo string) bool { return strings.HasPrefix(repo, "oci://") }

// Fetcher fetches and verifies chart archives.
type Fetcher struct {
	// Client is used for HTTP chart repositories and, through its
	// Transport, for OCI registries.
	Client *http.Client
	Creds  Credentials
	Limits Limits
}

// NewFetcher is a Fetcher with a client that gives up after timeout.
func NewFetcher(creds Credentials, timeout time.Duration) *Fetcher {
	return &Fetcher{Client: &http.Client{Timeout: timeout}, Creds: creds, Limits: DefaultLimits()}
}

// Archive is a fetched chart archive whose digest was verified.
type Archive struct {
	Name, Version string
	Data          []byte
	// Digest is sha256:<hex> of Data, as the index or the registry named it.
	Digest string
	// Source is where it came from, redacted.
	Source string
}

// Fetch fetches chart name at version from repo, an HTTP chart repository
// URL or oci://REGISTRY/PATH. version is a version or a semver range (the
// highest version that satisfies it is taken, as Helm does for
// dependencies).
func (f *Fetcher) Fetch(ctx context.Context, repo, name, version string) (*Archive, error) {
	if IsOCI(repo) {
		return f.fetchOCI(ctx, repo, name, version)
	}
	u, err := url.Parse(repo)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("chart repository %q is neither an http(s):// URL nor oci://REGISTRY/PATH", redact.URL(repo))
	}
	return f.fetchHTTP(ctx, repo, name, version)
}

// verify checks that data has the sha256 digest want (hex, optionally
// prefixed with sha256:) and returns it as sha256:<hex>.
func verify(data []byte, want, what string) (string, error) {
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	want = strings.TrimPrefix(want, "sha256:")
	if !strings.EqualFold(got, want) {
		return "", fmt.Errorf("%s: %w: it has sha256:%s, the repository names sha256:%s", what, ErrDigest, got, want)
	}
	return "sha256:" + got, nil
}

// pickVersion is version itself when it is among have, else the highest
// of have that satisfies version as a semver range.
func pickVersion(have []string, version string) (string, error) {
	for _, v := range have {
		if v == version {
			return v, nil
		}
	}
	c, err := semver.NewConstraint(version)
	if err != nil {
		return "", fmt.Errorf("version %q: %w", version, ErrNotFound)
	}
	var best *semver.Version
	bestRaw := ""
	for _, raw := range have {
		v, err := semver.NewVersion(raw)
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best, bestRaw = v, raw
		}
	}
	if best == nil {
		return "", fmt.Errorf("version %s: %w (it has %s)", version, ErrNotFound, someVersions(have))
	}
	return bestRaw, nil
}

// someVersions lists the highest versions of have, for an error.
func someVersions(have []string) string {
	if len(have) == 0 {
		return "no versions"
	}
	vs := append([]string(nil), have...)
	sort.SliceStable(vs, func(i, j int) bool {
		a, errA := semver.NewVersion(vs[i])
		b, errB := semver.NewVersion(vs[j])
		if errA != nil || errB != nil {
			return vs[i] > vs[j]
		}
		return a.GreaterThan(b)
	})
	if len(vs) > 5 {
		return strings.Join(vs[:5], ", ") + ", …"
	}
	return strings.Join(vs, ", ")
}
