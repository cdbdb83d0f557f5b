package helm

import (
	"bytes"
	"fmt"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/kustomize/kyaml/yaml/merge2"
	"sigs.k8s.io/yaml"
)

// Ways of combining a values file with inline values (kustomize's
// valuesMerge).
const (
	MergeOverride = "override" // inline values win (the default)
	MergeMerge    = "merge"    // the values file wins
	MergeReplace  = "replace"  // inline values only, the file ignored
)

// ValuesFile is one values file, named for errors.
type ValuesFile struct {
	Name string
	Data []byte
}

// EntryValues returns the user-supplied values of a kustomize helmCharts
// entry, as `kustomize build --enable-helm` hands them to Helm: the values
// file combined with the inline values as mode says, then each additional
// values file merged over that.
func EntryValues(file ValuesFile, inline map[string]any, mode string, additional []ValuesFile) (map[string]any, error) {
	first := file
	if len(inline) > 0 {
		data, err := inlineValues(file, inline, mode)
		if err != nil {
			return nil, err
		}
		first = ValuesFile{Name: "valuesInline", Data: data}
	}
	return MergeValues(append([]ValuesFile{first}, additional...))
}

// inlineValues combines the values file and the inline values into one
// document, as kustomize does before running Helm.
func inlineValues(file ValuesFile, inline map[string]any, mode string) ([]byte, error) {
	switch mode {
	case "", MergeOverride, MergeMerge:
	case MergeReplace:
		return yaml.Marshal(inline)
	default:
		return nil, fmt.Errorf("valuesMerge %q: must be one of %s, %s or %s", mode, MergeMerge, MergeOverride, MergeReplace)
	}
	fileValues, err := kyaml.Parse(string(file.Data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file.Name, err)
	}
	inlineNode, err := kyaml.FromMap(inline)
	if err != nil {
		return nil, fmt.Errorf("valuesInline: %w", err)
	}
	var out *kyaml.RNode
	if mode == MergeMerge {
		out, err = merge2.Merge(fileValues, inlineNode.Copy(), kyaml.MergeOptions{})
	} else {
		out, err = merge2.Merge(inlineNode, fileValues.Copy(), kyaml.MergeOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("merging valuesInline with %s: %w", file.Name, err)
	}
	m, err := out.Map()
	if err != nil {
		return nil, fmt.Errorf("merging valuesInline with %s: %w", file.Name, err)
	}
	return yaml.Marshal(m)
}

// MergeValues merges values files in order, each over the ones before, as
// `helm template -f a -f b` does.
func MergeValues(files []ValuesFile) (map[string]any, error) {
	base := map[string]any{}
	for _, f := range files {
		m, err := loader.LoadValues(bytes.NewReader(f.Data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		base = loader.MergeMaps(base, m)
	}
	return base, nil
}
