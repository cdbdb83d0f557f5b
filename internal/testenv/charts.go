package testenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ChartUser is the user name the chart servers accept.
const ChartUser = "chart-puller"

// TarEntry is one entry of a hand-made archive.
type TarEntry struct {
	Name, Body string
	Type       byte // tar.TypeReg if zero
	Link       string
}

// Tgz makes a gzipped tar of entries, hostile ones included.
func Tgz(t testing.TB, entries ...TarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Mode: 0o644, Typeflag: e.Type, Linkname: e.Link}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.Body); err != nil && h.Typeflag == tar.TypeReg {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// PackChart packs files (paths relative to the chart) under name/, as
// `helm package` lays a chart archive out.
func PackChart(t testing.TB, name string, files map[string]string) []byte {
	t.Helper()
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	es := make([]TarEntry, 0, len(paths))
	for _, p := range paths {
		es = append(es, TarEntry{Name: name + "/" + p, Body: files[p]})
	}
	return Tgz(t, es...)
}

// basicAuth wraps h with a basic-auth check of ChartUser and password.
func basicAuth(password, realm string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if u, p, ok := req.BasicAuth(); !ok || u != ChartUser || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		h.ServeHTTP(w, req)
	})
}

// ChartRepo is an HTTP chart repository on loopback (index.yaml and
// packaged charts under charts/) that wants basic auth.
type ChartRepo struct {
	srv      *httptest.Server
	password string
	mu       sync.Mutex
	files    map[string][]byte
	index    map[string][]string // chart name -> its index entries (YAML)
}

// NewChartRepo starts a chart repository, stopped when t ends.
func NewChartRepo(t testing.TB) *ChartRepo {
	r := &ChartRepo{password: "chart-password-" + gitServerRandom(12), files: map[string][]byte{}, index: map[string][]string{}}
	r.srv = httptest.NewServer(basicAuth(r.password, "charts", http.HandlerFunc(r.serve)))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *ChartRepo) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.URL.Path == "/index.yaml" {
		var b strings.Builder
		b.WriteString("apiVersion: v1\nentries:\n")
		names := make([]string, 0, len(r.index))
		for n := range r.index {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			b.WriteString("  " + n + ":\n" + strings.Join(r.index[n], ""))
		}
		_, _ = io.WriteString(w, b.String())
		return
	}
	data, ok := r.files[strings.TrimPrefix(req.URL.Path, "/charts/")]
	if !ok {
		http.NotFound(w, req)
		return
	}
	_, _ = w.Write(data)
}

// URL is the repository's URL, as `helm repo add` takes it.
func (r *ChartRepo) URL() string { return r.srv.URL + "/" }

// Password is the password the repository wants with ChartUser.
func (r *ChartRepo) Password() string { return r.password }

// Stop stops the server: later pulls find nothing.
func (r *ChartRepo) Stop() { r.srv.Close() }

// Add publishes archive as chart name at version, its digest in the index.
func (r *ChartRepo) Add(name, version string, archive []byte) {
	r.AddWithDigest(name, version, archive, Digest(archive))
}

// AddWithDigest publishes archive with the index naming digest (hex), the
// right one or not.
func (r *ChartRepo) AddWithDigest(name, version string, archive []byte, digest string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	file := name + "-" + version + ".tgz"
	r.files[file] = archive
	r.index[name] = append(r.index[name], fmt.Sprintf("  - apiVersion: v2\n    name: %s\n    version: %s\n    digest: %q\n    urls:\n    - charts/%s\n", name, version, digest, file))
}

// Digest is the hex sha256 of data, as a chart index names it.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// OCIRegistry is a distribution registry on loopback (go-containerregistry's)
// that wants basic auth.
type OCIRegistry struct {
	srv      *httptest.Server
	password string
	mu       sync.Mutex
	tamper   func([]byte) []byte
}

// NewOCIRegistry starts a registry, stopped when t ends.
func NewOCIRegistry(t testing.TB) *OCIRegistry {
	o := &OCIRegistry{password: "registry-password-" + gitServerRandom(12)}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	o.srv = httptest.NewServer(basicAuth(o.password, "registry", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		o.mu.Lock()
		tamper := o.tamper
		o.mu.Unlock()
		if tamper == nil || req.Method != http.MethodGet || !strings.Contains(req.URL.Path, "/blobs/") {
			reg.ServeHTTP(w, req)
			return
		}
		rec := httptest.NewRecorder()
		reg.ServeHTTP(rec, req)
		body := tamper(rec.Body.Bytes())
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})))
	t.Cleanup(o.srv.Close)
	return o
}

// Repo is the oci:// URL charts are pushed under.
func (o *OCIRegistry) Repo() string {
	return "oci://" + strings.TrimPrefix(o.srv.URL, "http://") + "/charts"
}

// Password is the password the registry wants with ChartUser.
func (o *OCIRegistry) Password() string { return o.password }

// Tamper makes the registry serve blobs changed by f.
func (o *OCIRegistry) Tamper(f func([]byte) []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tamper = f
}

// Push pushes archive as `helm push` does: an OCI manifest with Helm's
// config and chart layer media types, tagged with the version ("+" as "_").
func (o *OCIRegistry) Push(t testing.TB, chart, version string, archive []byte) {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, "application/vnd.cncf.helm.config.v1+json")
	img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(archive, "application/vnd.cncf.helm.chart.content.v1.tar+gzip")})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(strings.TrimPrefix(o.Repo(), "oci://") + "/" + chart + ":" + strings.ReplaceAll(version, "+", "_"))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: ChartUser, Password: o.password})); err != nil {
		t.Fatal(err)
	}
}
