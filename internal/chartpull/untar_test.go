package chartpull

import (
	"archive/tar"
	"errors"
	"strings"
	"testing"
)

// TestUnpackRefusesHostileArchives: each hostile archive is refused as
// ErrUnsafe, naming the entry (or the archive) and why.
func TestUnpackRefusesHostileArchives(t *testing.T) {
	t.Parallel()
	chartYAML := entry{Name: "web/Chart.yaml", Body: "apiVersion: v2\nname: web\nversion: 1.0.0\n"}
	small := DefaultLimits()
	small.File, small.Total, small.Entries, small.Depth, small.Nesting = 64, 200, 5, 4, 1
	nested := func(depth int) []byte {
		inner := packChart(t, "n0", map[string]string{"Chart.yaml": "apiVersion: v2\nname: n0\nversion: 1.0.0\n"})
		for i := 1; i <= depth; i++ {
			name := "n" + string(rune('0'+i))
			inner = tgz(t, entry{Name: name + "/Chart.yaml", Body: "apiVersion: v2\nname: " + name + "\nversion: 1.0.0\n"}, entry{Name: name + "/charts/sub.tgz", Body: string(inner)})
		}
		return inner
	}
	cases := []struct {
		name    string
		archive []byte
		chart   string
		lim     Limits
		want    string
	}{
		{"traversal", tgz(t, chartYAML, entry{Name: "web/../../etc/cron.d/x", Body: "x"}), "web", small, `entry "web/../../etc/cron.d/x": a path that leaves the chart (..)`},
		{"traversal in a directory entry", tgz(t, chartYAML, entry{Name: "../up/", Type: tar.TypeDir}), "web", small, `entry "../up/": a path that leaves the chart`},
		{"absolute", tgz(t, chartYAML, entry{Name: "/etc/passwd", Body: "x"}), "web", small, `entry "/etc/passwd": an absolute path`},
		{"symlink", tgz(t, chartYAML, entry{Name: "web/templates/x.yaml", Type: tar.TypeSymlink, Link: "/etc/shadow"}), "web", small, `entry "web/templates/x.yaml": a link (to "/etc/shadow")`},
		{"hardlink", tgz(t, chartYAML, entry{Name: "web/values.yaml", Type: tar.TypeLink, Link: "web/Chart.yaml"}), "web", small, `entry "web/values.yaml": a link`},
		{"device", tgz(t, chartYAML, entry{Name: "web/dev", Type: tar.TypeChar}), "web", small, `entry "web/dev": a special file`},
		{"another chart's directory", tgz(t, chartYAML, entry{Name: "other/values.yaml", Body: "x"}), "web", small, `entry "other/values.yaml": outside the chart's directory web/`},
		{"file too big", tgz(t, chartYAML, entry{Name: "web/big.yaml", Body: strings.Repeat("x", 65)}), "web", small, `entry "web/big.yaml": 65 bytes, more than the limit of 64 a file`},
		{"too much in all", tgz(t, chartYAML, entry{Name: "web/a", Body: strings.Repeat("x", 60)}, entry{Name: "web/b", Body: strings.Repeat("x", 60)}, entry{Name: "web/c", Body: strings.Repeat("x", 60)}), "web", small, `entry "web/c": the chart unpacks to more than the limit of 200 bytes`},
		{"too many entries", tgz(t, chartYAML, entry{Name: "web/1"}, entry{Name: "web/2"}, entry{Name: "web/3"}, entry{Name: "web/4"}, entry{Name: "web/5"}), "web", small, `entry "web/5": more than 5 entries`},
		{"too deep", tgz(t, chartYAML, entry{Name: "web/a/b/c/d.yaml", Body: "x"}), "web", small, `entry "web/a/b/c/d.yaml": a path more than 4 levels deep`},
		{"nested archives", nested(2), "", DefaultLimits(), `archives nested more than 3 deep`},
		{"traversal in a subchart archive", tgz(t, chartYAML, entry{Name: "web/charts/sub.tgz", Body: string(tgz(t, entry{Name: "sub/Chart.yaml", Body: "apiVersion: v2\nname: sub\nversion: 1.0.0\n"}, entry{Name: "sub/../../x", Body: "x"}))}), "web", DefaultLimits(), `chart archive t.tgz!charts/sub.tgz: entry "sub/../../x": a path that leaves the chart`},
		{"not gzip", []byte("PK\x03\x04 a zip"), "web", small, `chart archive t.tgz: unsafe chart archive`},
		{"archive too big", packChart(t, "web", map[string]string{"Chart.yaml": chartYAML.Body, "x": strings.Repeat("y", 300)}), "web", Limits{Archive: 100, Total: 1000, File: 1000, Entries: 10, Depth: 5}, `more than the limit of 100`},
		{"chart named otherwise", tgz(t, entry{Name: "web/Chart.yaml", Body: "apiVersion: v2\nname: evil\nversion: 1.0.0\n"}), "web", small, `the chart in web/ is named "evil"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.name == "nested archives" {
				c.archive = nested(4)
			}
			_, err := Unpack(c.archive, c.chart, "t.tgz", c.lim)
			if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v\nwant ErrUnsafe with %q", err, c.want)
			}
		})
	}
}

// TestUnpackChart: a chart with a subchart directory, a packed subchart
// and .helmignore unpacks with every file and both subcharts named.
func TestUnpackChart(t *testing.T) {
	t.Parallel()
	sub := packChart(t, "packed", map[string]string{"Chart.yaml": "apiVersion: v2\nname: packed\nversion: 0.1.0\n"})
	archive := tgz(t,
		entry{Name: "web/", Type: tar.TypeDir},
		entry{Name: "web/Chart.yaml", Body: "apiVersion: v2\nname: web\nversion: 1.0.0\n"},
		entry{Name: "web/.helmignore", Body: "*.md\n"},
		entry{Name: "web/charts/lib/Chart.yaml", Body: "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n"},
		entry{Name: "web/charts/packed-0.1.0.tgz", Body: string(sub)},
	)
	c, err := Unpack(archive, "web", "web-1.0.0.tgz", DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Files.Paths(), " "); got != ".helmignore Chart.yaml charts/lib/Chart.yaml charts/packed-0.1.0.tgz" {
		t.Errorf("files %s", got)
	}
	if got := strings.Join(c.Subcharts, " "); got != "lib packed" {
		t.Errorf("subcharts %s", got)
	}
}

func FuzzUnpack(f *testing.F) {
	f.Add(packChart(f, "web", map[string]string{"Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Unpack(data, "", "fuzz.tgz", DefaultLimits())
		if err != nil {
			return
		}
		for _, p := range c.Files.Paths() {
			if strings.HasPrefix(p, "/") || strings.Contains("/"+p+"/", "/../") {
				t.Fatalf("unpacked %q", p)
			}
		}
	})
}
