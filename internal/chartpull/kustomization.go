package chartpull

import (
	"bytes"
	"errors"
	"fmt"

	yaml "go.yaml.in/yaml/v3"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// DefaultChartHome is kustomize's helmGlobals.chartHome default.
const DefaultChartHome = "charts"

// Entry is the part of a helmCharts entry that pulling reads and writes.
type Entry struct {
	Name, Version, Repo, ReleaseName string
}

// Kustomization is what pulling reads of a kustomization file.
type Kustomization struct {
	ChartHome string
	Entries   []Entry
}

// ReadKustomization reads the chartHome and helmCharts entries of a
// kustomization file; empty data is a kustomization without them.
func ReadKustomization(data []byte) (Kustomization, error) {
	k := Kustomization{ChartHome: DefaultChartHome}
	root, err := parseRoot(data)
	if err != nil || root == nil {
		return k, err
	}
	if g := field(root, "helmGlobals"); g != nil {
		if h := field(g, "chartHome"); h != nil && h.Value != "" {
			k.ChartHome = h.Value
		}
	}
	charts := field(root, "helmCharts")
	if charts == nil {
		return k, nil
	}
	if charts.Kind != yaml.SequenceNode {
		return k, fmt.Errorf("line %d: helmCharts is not a list", charts.Line)
	}
	for _, item := range charts.Content {
		if item.Kind != yaml.MappingNode {
			return k, fmt.Errorf("line %d: a helmCharts entry is not a mapping", item.Line)
		}
		k.Entries = append(k.Entries, Entry{
			Name: scalar(item, "name"), Version: scalar(item, "version"),
			Repo: scalar(item, "repo"), ReleaseName: scalar(item, "releaseName"),
		})
	}
	return k, nil
}

// SetChart pins the helmCharts entries named e.Name to e.Version and
// e.Repo, or adds e when there is none, keeping the rest of the file
// (comments, other fields, the list indentation style). It returns the
// file and the versions the entries had before.
func SetChart(data []byte, e Entry) ([]byte, []string, error) {
	root, err := parseRoot(data)
	if err != nil {
		return nil, nil, err
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode}
	if root == nil {
		root = &yaml.Node{Kind: yaml.MappingNode}
		setField(root, "apiVersion", str("kustomize.config.k8s.io/v1beta1"))
		setField(root, "kind", str("Kustomization"))
		doc.Content = []*yaml.Node{root}
	} else if doc, err = parseDoc(data); err != nil {
		return nil, nil, err
	} else {
		root = doc.Content[0]
	}
	charts := field(root, "helmCharts")
	if charts == nil {
		charts = &yaml.Node{Kind: yaml.SequenceNode}
		setField(root, "helmCharts", charts)
	}
	if charts.Kind != yaml.SequenceNode {
		return nil, nil, fmt.Errorf("line %d: helmCharts is not a list", charts.Line)
	}
	var old []string
	for _, item := range charts.Content {
		if item.Kind != yaml.MappingNode {
			return nil, nil, fmt.Errorf("line %d: a helmCharts entry is not a mapping", item.Line)
		}
		if scalar(item, "name") != e.Name {
			continue
		}
		if v := scalar(item, "version"); v != "" && v != e.Version {
			old = append(old, v)
		}
		setField(item, "version", str(e.Version))
		setField(item, "repo", str(e.Repo))
		if scalar(item, "releaseName") == "" && e.ReleaseName != "" {
			setField(item, "releaseName", str(e.ReleaseName))
		}
		e.Name = "" // found
	}
	if e.Name != "" {
		item := &yaml.Node{Kind: yaml.MappingNode}
		setField(item, "name", str(e.Name))
		setField(item, "version", str(e.Version))
		setField(item, "repo", str(e.Repo))
		if e.ReleaseName != "" {
			setField(item, "releaseName", str(e.ReleaseName))
		}
		charts.Content = append(charts.Content, item)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if kyaml.DeriveSeqIndentStyle(string(data)) == string(kyaml.CompactSequenceStyle) {
		enc.CompactSeqIndent()
	}
	if err := enc.Encode(doc); err != nil {
		return nil, nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), old, nil
}

// parseDoc parses a one-document YAML file whose root is a mapping.
func parseDoc(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, errors.New("more than one YAML document")
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("not a mapping")
	}
	return &doc, nil
}

// parseRoot is the root mapping of data, or nil for an empty file.
func parseRoot(data []byte) (*yaml.Node, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	doc, err := parseDoc(data)
	if err != nil {
		return nil, err
	}
	return doc.Content[0], nil
}

// field is the value of key in mapping m, or nil.
func field(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind == yaml.AliasNode && v.Alias != nil {
				return v.Alias
			}
			return v
		}
	}
	return nil
}

// scalar is the scalar value of key in mapping m, or "".
func scalar(m *yaml.Node, key string) string {
	if v := field(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// setField sets key in mapping m to v, in place (keeping the key's
// comments) or appended.
func setField(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			old := m.Content[i+1]
			if old.Kind == yaml.ScalarNode && v.Kind == yaml.ScalarNode {
				old.Value, old.Tag, old.Style = v.Value, v.Tag, v.Style
				return
			}
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, str(key), v)
}

// str is a string scalar node, quoted if it would read as another type
// (a version like 1.10 must stay a string).
func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	var probe any
	if err := yaml.Unmarshal([]byte(s), &probe); err != nil || fmt.Sprint(probe) != s {
		n.Style = yaml.DoubleQuotedStyle
	} else if _, isString := probe.(string); !isString {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}
