package chartpull

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

// source is a chart repository kind, each with basic auth on loopback.
type source struct {
	name     string
	repo     string
	password string
	publish  func(t *testing.T, name, version string, archive []byte)
}

func sources(t *testing.T) []source {
	h := testenv.NewChartRepo(t)
	o := testenv.NewOCIRegistry(t)
	return []source{
		{"http", h.URL(), h.Password(), func(_ *testing.T, n, v string, a []byte) { h.Add(n, v, a) }},
		{"oci", o.Repo(), o.Password(), func(t *testing.T, n, v string, a []byte) { o.Push(t, n, v, a) }},
	}
}

// TestPullFromRepositoryAndRegistry: a chart is fetched by version or by
// range from an HTTP repository and from an OCI registry with basic auth,
// verified and unpacked; without credentials, or for a version that is
// not published, the refusal says so.
func TestPullFromRepositoryAndRegistry(t *testing.T) {
	t.Parallel()
	for _, s := range sources(t) {
		t.Run(s.name, func(t *testing.T) {
			v1 := chartFiles("web", "1.0.0", map[string]string{"a": "one"})
			v2 := chartFiles("web", "1.1.0+build.7", map[string]string{"b": "two"})
			s.publish(t, "web", "1.0.0", packChart(t, "web", v1))
			s.publish(t, "web", "1.1.0+build.7", packChart(t, "web", v2))
			f := testFetcher(s.repo, s.password)
			p, err := f.Pull(t.Context(), s.repo, "web", "1.0.0")
			if err != nil {
				t.Fatal(err)
			}
			if p.Archive.Version != "1.0.0" || !strings.HasPrefix(p.Archive.Digest, "sha256:") || len(p.Fetched) != 0 {
				t.Errorf("archive %s %s %s, fetched %d", p.Archive.Name, p.Archive.Version, p.Archive.Digest, len(p.Fetched))
			}
			if got := strings.Join(p.Chart.Files.Paths(), " "); got != "Chart.yaml templates/a.yaml values.yaml" {
				t.Errorf("files %s", got)
			}
			if string(p.Chart.Files["templates/a.yaml"]) != v1["templates/a.yaml"] {
				t.Errorf("templates/a.yaml: %q", p.Chart.Files["templates/a.yaml"])
			}
			p, err = f.Pull(t.Context(), s.repo, "web", "^1.0")
			if err != nil || p.Archive.Version != "1.1.0+build.7" {
				t.Fatalf("range ^1.0: %v, %+v", err, p)
			}
			anon := &Fetcher{Client: &http.Client{}, Limits: DefaultLimits()}
			if _, err := anon.Pull(t.Context(), s.repo, "web", "1.0.0"); !errors.Is(err, ErrUnauthorized) || strings.Contains(err.Error(), s.password) {
				t.Errorf("without credentials: %v, want ErrUnauthorized", err)
			}
			elsewhere := &Fetcher{Client: &http.Client{}, Limits: DefaultLimits(), Creds: Credentials{Host: "charts.example.com", Username: testenv.ChartUser, Password: s.password}}
			if _, err := elsewhere.Pull(t.Context(), s.repo, "web", "1.0.0"); !errors.Is(err, ErrUnauthorized) {
				t.Errorf("credentials for another host were sent: %v", err)
			}
			if _, err := f.Pull(t.Context(), s.repo, "web", "2.0.0"); !errors.Is(err, ErrNotFound) {
				t.Errorf("2.0.0: %v, want ErrNotFound", err)
			}
			t.Logf("refusal of a missing version: %v", err)
		})
	}
}

// TestDigestMismatchRefused: an archive whose bytes are not those the
// index or the registry's manifest names is refused.
func TestDigestMismatchRefused(t *testing.T) {
	t.Parallel()
	archive := packChart(t, "web", chartFiles("web", "1.0.0", map[string]string{"a": "one"}))
	t.Run("http", func(t *testing.T) {
		t.Parallel()
		r := testenv.NewChartRepo(t)
		r.AddWithDigest("web", "1.0.0", archive, testenv.Digest([]byte("something else")))
		_, err := testFetcher(r.URL(), r.Password()).Pull(t.Context(), r.URL(), "web", "1.0.0")
		if !errors.Is(err, ErrDigest) || !strings.Contains(err.Error(), "web-1.0.0.tgz") {
			t.Fatalf("err %v, want ErrDigest naming the archive", err)
		}
		t.Log(err)
	})
	t.Run("http without digest", func(t *testing.T) {
		t.Parallel()
		r := testenv.NewChartRepo(t)
		r.AddWithDigest("web", "1.0.0", archive, "")
		_, err := testFetcher(r.URL(), r.Password()).Pull(t.Context(), r.URL(), "web", "1.0.0")
		if !errors.Is(err, ErrDigest) {
			t.Fatalf("err %v, want ErrDigest", err)
		}
	})
	t.Run("oci", func(t *testing.T) {
		t.Parallel()
		o := testenv.NewOCIRegistry(t)
		o.Push(t, "web", "1.0.0", archive)
		o.Tamper(func(b []byte) []byte {
			out := append([]byte(nil), b...)
			if len(out) > 100 {
				out[100] ^= 0xff
			}
			return out
		})
		_, err := testFetcher(o.Repo(), o.Password()).Pull(t.Context(), o.Repo(), "web", "1.0.0")
		if !errors.Is(err, ErrDigest) {
			t.Fatalf("err %v, want ErrDigest", err)
		}
		t.Log(err)
	})
}

// TestDependencies: a dependency the archive carries is left alone; one
// it lacks is fetched from its repository (with no credentials: another
// host) into charts/, without the credentials of another host; one whose repository cannot be fetched from is
// refused naming it.
func TestDependencies(t *testing.T) {
	t.Parallel()
	main := testenv.NewChartRepo(t)
	// Another port is another host: the credentials for main are not
	// sent there, and it wants them.
	other := testenv.NewChartRepo(t)
	other.Add("lib", "0.3.1", packChart(t, "lib", chartFiles("lib", "0.3.1", nil)))
	lib := chartFiles("lib", "0.3.1", map[string]string{"l": "lib"})
	main.Add("lib", "0.3.1", packChart(t, "lib", lib))
	main.Add("lib", "0.2.0", packChart(t, "lib", chartFiles("lib", "0.2.0", nil)))
	carried := chartFiles("carried", "1.0.0", nil, Dependency{Name: "lib", Version: "~0.3.0", Repository: main.URL()})
	for p, body := range lib {
		carried["charts/lib/"+p] = body
	}
	main.Add("carried", "1.0.0", packChart(t, "carried", carried))
	lacking := chartFiles("lacking", "1.0.0", nil, Dependency{Name: "lib", Version: "~0.3.0", Repository: main.URL()})
	main.Add("lacking", "1.0.0", packChart(t, "lacking", lacking))
	local := chartFiles("local", "1.0.0", nil, Dependency{Name: "lib", Version: "0.3.1", Repository: "file://../lib"})
	main.Add("local", "1.0.0", packChart(t, "local", local))
	away := chartFiles("away", "1.0.0", nil, Dependency{Name: "lib", Version: "0.3.1", Repository: other.URL()})
	main.Add("away", "1.0.0", packChart(t, "away", away))

	f := testFetcher(main.URL(), main.Password())
	p, err := f.Pull(t.Context(), main.URL(), "carried", "1.0.0")
	if err != nil || len(p.Fetched) != 0 || p.Chart.Files["charts/lib/Chart.yaml"] == nil {
		t.Fatalf("carried: %v, fetched %d", err, len(p.Fetched))
	}
	p, err = f.Pull(t.Context(), main.URL(), "lacking", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Fetched) != 1 || p.Fetched[0].Version != "0.3.1" || p.Chart.Files["charts/lib-0.3.1.tgz"] == nil {
		t.Fatalf("lacking: fetched %+v, files %v", p.Fetched, p.Chart.Files.Paths())
	}
	_, err = f.Pull(t.Context(), main.URL(), "local", "1.0.0")
	if !errors.Is(err, ErrDependency) || !strings.Contains(err.Error(), `"lib"`) || !strings.Contains(err.Error(), "file://../lib") {
		t.Fatalf("local: %v, want ErrDependency naming lib and its repository", err)
	}
	t.Log(err)
	_, err = f.Pull(t.Context(), main.URL(), "away", "1.0.0")
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), `dependency "lib"`) {
		t.Fatalf("away: %v, want the dependency refused for want of credentials (they belong to another host)", err)
	}
}
