package chartpull

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

// entry is one tar entry of a hand-made archive.
type entry = testenv.TarEntry

func tgz(t testing.TB, entries ...entry) []byte { return testenv.Tgz(t, entries...) }

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

func packChart(t testing.TB, name string, files map[string]string) []byte {
	return testenv.PackChart(t, name, files)
}

// testFetcher fetches with the credentials password for repo's host.
func testFetcher(repo, password string) *Fetcher {
	return &Fetcher{Client: &http.Client{}, Creds: Credentials{Host: HostOf(repo), Username: testenv.ChartUser, Password: password}, Limits: DefaultLimits()}
}
