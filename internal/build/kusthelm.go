package build

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/capstan-gitops/capstan/internal/redact"
)

// defaultChartHome is kustomize's helmGlobals.chartHome default.
const defaultChartHome = "charts"

// helmEntry is one helmCharts entry of a kustomization: the fields of
// kustomize's HelmChart that are supported.
type helmEntry struct {
	Name                  string         `json:"name"`
	Version               string         `json:"version"`
	Repo                  string         `json:"repo"`
	ReleaseName           string         `json:"releaseName"`
	Namespace             string         `json:"namespace"`
	ValuesFile            string         `json:"valuesFile"`
	AdditionalValuesFiles []string       `json:"additionalValuesFiles"`
	ValuesInline          map[string]any `json:"valuesInline"`
	ValuesMerge           string         `json:"valuesMerge"`
	IncludeCRDs           bool           `json:"includeCRDs"`
	SkipHooks             bool           `json:"skipHooks"`
	SkipTests             bool           `json:"skipTests"`
	APIVersions           []string       `json:"apiVersions"`
	KubeVersion           string         `json:"kubeVersion"`
	NameTemplate          string         `json:"nameTemplate"`
	// Devel and Debug only matter to a helm run; accepted and ignored.
	Devel bool `json:"devel"`
	Debug bool `json:"debug"`
}

// helmGlobals is a kustomization's helmGlobals.
type helmGlobals struct {
	ChartHome  string `json:"chartHome"`
	ConfigHome string `json:"configHome"`
}

// chartJob is one helmCharts entry to render before kustomize runs, its
// paths as kustomize sees them.
type chartJob struct {
	file      string // the kustomization file
	dir       string // its directory
	line      int    // the entry's line in file
	entry     helmEntry
	chartDir  string
	values    string   // the values file
	additions []string // additional values files
	namespace string   // the release namespace
}

// helmCharts checks the helmCharts entries of the kustomization k at top and
// returns them as jobs. A chart missing from chartHome is refused with the
// command that vendors it.
func (s *scanner) helmCharts(k value, top frame) ([]chartJob, error) {
	m := k.v.(map[string]any)
	raw, ok := m["helmCharts"]
	if !ok || raw == nil {
		return nil, nil
	}
	var globals helmGlobals
	if err := strictJSON(m["helmGlobals"], &globals); err != nil {
		return nil, errorf(top.file, k.lineOf("helmGlobals"), "helmGlobals: %v", err)
	}
	home := globals.ChartHome
	if home == "" {
		home = defaultChartHome
	}
	if _, err := ref(k, "helmGlobals.chartHome", home, top); err != nil {
		return nil, err
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, errorf(top.file, k.lineOf("helmCharts"), "helmCharts is %s, not a list", describe(raw))
	}
	lines := seqLines(k, "helmCharts")
	var jobs []chartJob
	for i, item := range list {
		line := k.lineOf("helmCharts")
		if i < len(lines) {
			line = lines[i]
		}
		job, err := s.chart(item, i, line, home, top)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, job)
	}
	return jobs, nil
}

func (s *scanner) chart(item any, i, line int, home string, top frame) (chartJob, error) {
	var e helmEntry
	if err := strictJSON(item, &e); err != nil {
		return chartJob{}, errorf(top.file, line, "helmCharts[%d]: %v", i, err)
	}
	if e.Name == "" || strings.ContainsAny(e.Name, `/\`) || e.Name == "." || e.Name == ".." {
		return chartJob{}, errorf(top.file, line, "helmCharts[%d]: name %q is not a chart name", i, e.Name)
	}
	job := chartJob{file: top.file, dir: top.dir, line: line, entry: e, namespace: e.Namespace}
	if job.namespace == "" {
		job.namespace = top.namespace
	}
	// kustomize's layout: <chartHome>/<name>-<version>/<name> when the
	// entry names a version and a repo, else <chartHome>/<name>.
	rel := path.Join(home, e.Name)
	if e.Version != "" && e.Repo != "" {
		rel = path.Join(home, e.Name+"-"+e.Version, e.Name)
	}
	job.chartDir = path.Join(top.dir, rel)
	if !within(job.chartDir, top.dir) {
		return chartJob{}, errorf(top.file, line, "helmCharts entry %q: chartHome %q is %w", e.Name, home, ErrOutsideRoot)
	}
	isDir, err := s.isDir(job.chartDir)
	switch {
	case errors.Is(err, fs.ErrNotExist) || err == nil && !isDir:
		return chartJob{}, errorf(top.file, line, "helmCharts entry %q: the chart is not vendored: %s is not in the repository; vendor it with: %s",
			e.Name, rel, pullCommand(e, top.dir))
	case err != nil:
		return chartJob{}, errorf(top.file, line, "helmCharts entry %q: %v", e.Name, err)
	}
	job.values = path.Join(job.chartDir, "values.yaml")
	if e.ValuesFile != "" {
		if job.values, err = s.valuesRef(line, e.Name, "valuesFile", e.ValuesFile, top); err != nil {
			return chartJob{}, err
		}
	}
	for _, f := range e.AdditionalValuesFiles {
		target, err := s.valuesRef(line, e.Name, "additionalValuesFiles", f, top)
		if err != nil {
			return chartJob{}, err
		}
		job.additions = append(job.additions, target)
	}
	return job, nil
}

// valuesRef checks a values file of an entry: inside the kustomization's
// directory, present.
func (s *scanner) valuesRef(line int, name, field, entry string, top frame) (string, error) {
	if isRemoteRef(entry) {
		return "", errorf(top.file, line, "helmCharts entry %q: %s %q: %w", name, field, entry, ErrRemote)
	}
	if path.IsAbs(entry) {
		return "", errorf(top.file, line, "helmCharts entry %q: %s %q: absolute paths are %w", name, field, entry, ErrOutsideRoot)
	}
	target := path.Join(top.dir, entry)
	if !within(target, top.dir) {
		return "", errorf(top.file, line, "helmCharts entry %q: %s %q is %w of the kustomization", name, field, entry, ErrOutsideRoot)
	}
	if _, err := confine(s.root, target); errors.Is(err, fs.ErrNotExist) {
		return "", s.missing(top.file, line, "helmCharts "+field, entry, target)
	}
	return target, nil
}

// pullCommand is the `capstan chart pull` that vendors the chart of e where
// the build looks for it (kustomize's layout under the kustomization's
// chartHome) and pins the entry to it.
func pullCommand(e helmEntry, dir string) string {
	repo := redact.URL(e.Repo) // a status must not carry credentials
	if repo == "" {
		repo = "<chart repository URL or oci://REGISTRY/PATH>"
	}
	version := e.Version
	if version == "" {
		version = "<version>"
	}
	cmd := "capstan chart pull " + e.Name + " --repo " + repo + " --version " + version
	if dir != "" && dir != "." {
		cmd += " --dir " + dir
	}
	return cmd
}

// strictJSON decodes v (decoded YAML) into out, refusing unknown fields.
func strictJSON(v, out any) error {
	if v == nil {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// seqLines returns the lines of the items of the top-level list field.
func seqLines(k value, field string) []int {
	root := k.node
	if root == nil || root.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != field {
			continue
		}
		v := root.Content[i+1]
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		lines := make([]int, len(v.Content))
		for j, n := range v.Content {
			lines[j] = k.base + n.Line
		}
		return lines
	}
	return nil
}
