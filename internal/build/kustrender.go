package build

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/capstan-gitops/capstan/internal/helm"
)

// helmGeneratedAnnotation is the annotation kustomize's helm generator puts
// on what it renders: its namespace transformer leaves such objects to the
// release namespace, and it is removed from the output.
const helmGeneratedAnnotation = "internal.config.kubernetes.io/helm-generated"

// chartRenderer renders one chart; [helm.Renderer] is the one used.
type chartRenderer interface {
	Render(ctx context.Context, c helm.Chart) ([]byte, error)
}

// renderCharts renders the chart jobs from the in-memory copy fsys, with
// the capabilities of cluster where it is set, and
// turns each kustomization that has them into one kustomize can build
// without helm: the rendered manifests become files listed last in its
// resources, and helmCharts and helmGlobals are removed.
func renderCharts(ctx context.Context, fsys filesys.FileSystem, jobs []chartJob, r chartRenderer, cluster *helm.Capabilities) error {
	added := map[string][]string{}
	var order []string
	for i, job := range jobs {
		out, err := renderChart(ctx, fsys, job, r, cluster)
		if err != nil {
			return err
		}
		name := fmt.Sprintf(".capstan-helmchart-%d-%s.yaml", i, job.entry.Name)
		if err := fsys.WriteFile(path.Join("/", job.dir, name), out); err != nil {
			return err
		}
		if _, ok := added[job.file]; !ok {
			order = append(order, job.file)
		}
		added[job.file] = append(added[job.file], name)
	}
	for _, file := range order {
		if err := rewriteKustomization(fsys, file, added[file]); err != nil {
			return err
		}
	}
	return nil
}

// renderChart renders one entry and marks its objects as kustomize's helm
// generator does.
func renderChart(ctx context.Context, fsys filesys.FileSystem, job chartJob, r chartRenderer, cluster *helm.Capabilities) ([]byte, error) {
	fail := func(err error) error {
		return errorf(job.file, job.line, "helmCharts entry %q (values: %s): %w", job.entry.Name, valuesNames(job), err)
	}
	files, err := chartFiles(fsys, job.chartDir)
	if err != nil {
		return nil, fail(err)
	}
	valuesFile, err := readValues(fsys, job.values, job.entry.ValuesFile == "")
	if err != nil {
		return nil, fail(err)
	}
	var additions []helm.ValuesFile
	for _, f := range job.additions {
		v, err := readValues(fsys, f, false)
		if err != nil {
			return nil, fail(err)
		}
		additions = append(additions, v)
	}
	values, err := helm.EntryValues(valuesFile, job.entry.ValuesInline, job.entry.ValuesMerge, additions)
	if err != nil {
		return nil, fail(err)
	}
	out, err := r.Render(ctx, helm.Chart{
		Name:         job.entry.Name,
		Files:        files,
		ReleaseName:  job.entry.ReleaseName,
		NameTemplate: job.entry.NameTemplate,
		Namespace:    job.namespace,
		Values:       values,
		IncludeCRDs:  job.entry.IncludeCRDs,
		SkipHooks:    job.entry.SkipHooks,
		KubeVersion:  job.entry.KubeVersion,
		APIVersions:  job.entry.APIVersions,
		Cluster:      cluster,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fail(err)
	}
	out, err = markGenerated(out)
	if err != nil {
		return nil, fail(err)
	}
	return out, nil
}

func valuesNames(job chartJob) string {
	names := []string{job.values}
	if len(job.entry.ValuesInline) > 0 {
		names = append(names, "valuesInline")
	}
	return strings.Join(append(names, job.additions...), ", ")
}

// chartFiles reads the files below dir in fsys, named relative to dir.
func chartFiles(fsys filesys.FileSystem, dir string) ([]helm.File, error) {
	root := path.Join("/", dir)
	var files []helm.File
	err := fsys.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		data, err := fsys.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, helm.File{Name: strings.TrimPrefix(p, root+"/"), Data: data})
		return nil
	})
	return files, err
}

// readValues reads a values file; the chart's own values.yaml may be
// missing (optional), as for a chart without defaults.
func readValues(fsys filesys.FileSystem, file string, optional bool) (helm.ValuesFile, error) {
	p := path.Join("/", file)
	if optional && !fsys.Exists(p) {
		return helm.ValuesFile{Name: file}, nil
	}
	data, err := fsys.ReadFile(p)
	if err != nil {
		return helm.ValuesFile{}, err
	}
	return helm.ValuesFile{Name: file, Data: data}, nil
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// markGenerated checks each rendered document and annotates it as
// helm-generated. A document that is not an object is an error naming its
// template (the caller adds the chart and the values files).
func markGenerated(stream []byte) ([]byte, error) {
	var out bytes.Buffer
	for _, doc := range docSeparator.Split(string(stream), -1) {
		source := "?"
		if _, rest, ok := strings.Cut(doc, "# Source: "); ok {
			source, _, _ = strings.Cut(rest, "\n")
		}
		if blank(doc) {
			continue
		}
		node, err := kyaml.Parse(doc)
		if err == nil && isEmpty(node) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("template %s rendered invalid YAML: %w", source, err)
		}
		if node.YNode().Kind != yaml.MappingNode {
			return nil, fmt.Errorf("template %s rendered a document that is not an object", source)
		}
		if err := node.PipeE(kyaml.SetAnnotation(helmGeneratedAnnotation, "true")); err != nil {
			return nil, fmt.Errorf("template %s: %w", source, err)
		}
		s, err := node.String()
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", source, err)
		}
		out.WriteString("---\n")
		out.WriteString(s)
	}
	return out.Bytes(), nil
}

// blank reports whether a document holds only comments and blank lines.
func blank(doc string) bool {
	for line := range strings.Lines(doc) {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

func isEmpty(n *kyaml.RNode) bool {
	if n == nil || n.YNode() == nil {
		return true
	}
	y := n.YNode()
	return y.Kind == yaml.ScalarNode && (y.Tag == "!!null" || y.Value == "") || y.Kind == yaml.MappingNode && len(y.Content) == 0
}

// rewriteKustomization removes helmCharts and helmGlobals from the
// kustomization file in fsys and lists the rendered files last in its
// resources.
func rewriteKustomization(fsys filesys.FileSystem, file string, rendered []string) error {
	p := path.Join("/", file)
	data, err := fsys.ReadFile(p)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return errorf(file, 0, "%v", err)
	}
	root := doc.Content[0]
	var kept []*yaml.Node
	var resources *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "helmCharts", "helmGlobals":
			continue
		case "resources":
			if v.Kind != yaml.SequenceNode {
				v = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			}
			resources = v
		}
		kept = append(kept, k, v)
	}
	if resources == nil {
		resources = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		kept = append(kept, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "resources"}, resources)
	}
	for _, r := range rendered {
		resources.Content = append(resources.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: r})
	}
	root.Content = kept
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return errorf(file, 0, "%v", err)
	}
	return fsys.WriteFile(p, out)
}
