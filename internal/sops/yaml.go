package sops

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// maxDepth bounds the nesting of an encrypted file.
const maxDepth = 100

// parseYAML parses every document of a YAML file; the sops block is taken
// from the first and removed from all, as SOPS does.
func parseYAML(data []byte) (docs []*node, md *node, err error) {
	defer func() {
		if r := recover(); r != nil {
			docs, md, err = nil, nil, malformed(0, "the YAML decoder failed")
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, malformed(0, "invalid YAML")
		}
		n, err := fromYAMLDocument(&doc)
		if err != nil {
			return nil, nil, err
		}
		if n == nil {
			continue
		}
		if i == 0 {
			md = n.get(metadataKey)
		}
		docs = append(docs, n.without(metadataKey))
	}
	return docs, md, nil
}

// fromYAMLDocument converts a document; nil for an empty or null one.
func fromYAMLDocument(doc *yaml.Node) (*node, error) {
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, malformed(root.Line, "a YAML document of an encrypted file is not a mapping")
	}
	return fromYAML(root, 0)
}

func fromYAML(y *yaml.Node, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, malformed(y.Line, "nested too deeply")
	}
	switch y.Kind {
	case yaml.MappingNode:
		n := &node{kind: mappingNode, line: y.Line}
		for i := 0; i+1 < len(y.Content); i += 2 {
			k := y.Content[i]
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				return nil, malformed(k.Line, "a mapping key is not a string")
			}
			v, err := fromYAML(y.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k.Value)
			n.vals = append(n.vals, v)
		}
		return n, nil
	case yaml.SequenceNode:
		n := &node{kind: sequenceNode, line: y.Line}
		for _, c := range y.Content {
			v, err := fromYAML(c, depth+1)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
		}
		return n, nil
	case yaml.ScalarNode:
		var v any
		if err := y.Decode(&v); err != nil {
			return nil, malformed(y.Line, "invalid scalar")
		}
		switch v.(type) {
		case nil, string, int, float64, bool, time.Time:
		default:
			return nil, malformed(y.Line, "a value of an unsupported type")
		}
		return &node{kind: scalarNode, v: v, line: y.Line}, nil
	}
	return nil, malformed(y.Line, "YAML aliases are not allowed in an encrypted file")
}

// yamlHasMetadata reports whether a YAML document has a top-level sops key.
func yamlHasMetadata(data []byte) (found bool) {
	defer func() {
		if recover() != nil {
			found = false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			return false
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		m := doc.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == metadataKey {
				return true
			}
		}
	}
}

// toYAML converts a tree back to YAML nodes.
func toYAML(n *node) *yaml.Node {
	switch n.kind {
	case mappingNode:
		y := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for i, k := range n.keys {
			y.Content = append(y.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, toYAML(n.vals[i]))
		}
		return y
	case sequenceNode:
		y := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, v := range n.vals {
			y.Content = append(y.Content, toYAML(v))
		}
		return y
	}
	return yamlScalar(n.v)
}

func yamlScalar(v any) *yaml.Node {
	s := func(tag, value string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value} }
	switch v := v.(type) {
	case string:
		return s("!!str", v)
	case []byte:
		return s("!!str", string(v))
	case int:
		return s("!!int", strconv.Itoa(v))
	case float64:
		return s("!!float", strconv.FormatFloat(v, 'g', -1, 64))
	case bool:
		return s("!!bool", strconv.FormatBool(v))
	case time.Time:
		return s("!!timestamp", v.Format(time.RFC3339Nano))
	}
	return s("!!null", "null")
}

// errEncode is a failure to encode decrypted values; it does not say which.
var errEncode = errors.New("encoding the decrypted file failed")

// emitYAML writes the documents, separated by ---.
func emitYAML(docs []*node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, d := range docs {
		// The encoder's errors may quote a value: they are not passed on.
		if err := enc.Encode(toYAML(d)); err != nil {
			return nil, errEncode
		}
	}
	if err := enc.Close(); err != nil {
		return nil, errEncode
	}
	return b.Bytes(), nil
}
