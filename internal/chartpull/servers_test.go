package chartpull

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

// Test credentials of the loopback servers.
const (
	testUser     = "puller"
	testPassword = "PASSWORD-chart-s3cr3t"
)

// entry is one tar entry of a hand-made archive.
type entry struct {
	name, body string
	typ        byte
	link       string
}

// tgz makes a gzipped tar of entries.
func tgz(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: e.typ, Linkname: e.link}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
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

// chartFiles are the files of a small chart: a ConfigMap per key of data.
func chartFiles(name, version string, data map[string]string, deps ...Dependency) map[string]string {
	chartYAML := fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, version)
	if len(deps) > 0 {
		chartYAML += "dependencies:\n"
		for _, d := range deps {
			chartYAML += fmt.Sprintf("- name: %s\n  version: %q\n  repository: %s\n", d.Name, d.Version, d.Repository)
		}
	}
	files := map[string]string{"Chart.yaml": chartYAML, "values.yaml": "greeting: hello\n"}
	for k, v := range data {
		files["templates/"+k+".yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-" + k + "\ndata:\n  v: " + v + "\n"
	}
	return files
}

// packChart packs files under name/, as helm package does.
func packChart(t testing.TB, name string, files map[string]string) []byte {
	t.Helper()
	var es []entry
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		es = append(es, entry{name: name + "/" + p, body: files[p]})
	}
	return tgz(t, es...)
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// chartRepo is an HTTP chart repository on loopback with basic auth.
type chartRepo struct {
	srv *httptest.Server
	mu  sync.Mutex
	// charts by file name; digests as the index names them (tests may lie).
	files   map[string][]byte
	index   map[string][]string // chart name -> index entries (YAML)
	entries []string
	gets    []string
}

func newChartRepo(t *testing.T) *chartRepo {
	r := &chartRepo{files: map[string][]byte{}, index: map[string][]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.gets = append(r.gets, req.URL.Path)
		if u, p, ok := req.BasicAuth(); !ok || u != testUser || p != testPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if req.URL.Path == "/index.yaml" {
			var b strings.Builder
			b.WriteString("apiVersion: v1\nentries:\n")
			names := make([]string, 0, len(r.index))
			for n := range r.index {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				b.WriteString("  " + n + ":\n")
				for _, e := range r.index[n] {
					b.WriteString(e)
				}
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
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the repository's URL.
func (r *chartRepo) URL() string { return r.srv.URL + "/" }

// add publishes archive as name-version.tgz; digest overrides the index's.
func (r *chartRepo) add(name, version string, archive []byte, digest string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	file := name + "-" + version + ".tgz"
	r.files[file] = archive
	if digest == "" {
		digest = digestOf(archive)
	}
	r.index[name] = append(r.index[name], fmt.Sprintf("  - apiVersion: v2\n    name: %s\n    version: %s\n    digest: %s\n    urls:\n    - charts/%s\n", name, version, digest, file))
}

// ociRegistry is a distribution registry on loopback with basic auth.
type ociRegistry struct {
	srv *httptest.Server
	// tamper, if set, replaces blobs served.
	mu     sync.Mutex
	tamper func([]byte) []byte
}

func newOCIRegistry(t *testing.T) *ociRegistry {
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	o := &ociRegistry{}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if u, p, ok := req.BasicAuth(); !ok || u != testUser || p != testPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		o.mu.Lock()
		tamper := o.tamper
		o.mu.Unlock()
		if tamper != nil && req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/") {
			rec := httptest.NewRecorder()
			reg.ServeHTTP(rec, req)
			body := tamper(rec.Body.Bytes())
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
			return
		}
		reg.ServeHTTP(w, req)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

// Repo is the oci:// repository URL charts are pushed under.
func (o *ociRegistry) Repo() string {
	return "oci://" + strings.TrimPrefix(o.srv.URL, "http://") + "/charts"
}

// push pushes archive as Helm does: OCI manifest, Helm's config and layer
// media types, the version as tag (+ as _).
func (o *ociRegistry) push(t *testing.T, chart, version string, archive []byte) {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, ConfigMediaType)
	img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(archive, ChartLayerMediaType)})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(strings.TrimPrefix(o.Repo(), "oci://") + "/" + chart + ":" + strings.ReplaceAll(version, "+", "_"))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: testUser, Password: testPassword})); err != nil {
		t.Fatal(err)
	}
}

// testFetcher fetches with the test credentials for repo's host.
func testFetcher(repo string) *Fetcher {
	return &Fetcher{Client: &http.Client{}, Creds: Credentials{Host: HostOf(repo), Username: testUser, Password: testPassword}, Limits: DefaultLimits()}
}
