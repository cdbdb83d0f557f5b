package build

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// Decode decodes one manifest file into Kubernetes objects. Files named
// *.json hold one or more JSON values; anything else is multi-document
// YAML. Empty and null documents are skipped, List kinds are expanded,
// and every object must have apiVersion, kind and metadata.name. Aliases
// may at most double a YAML document. Errors are [*Error] naming name and
// the line of the document or item at fault. Decode keeps the objects in
// file order and does not check for duplicates.
func Decode(name string, data []byte) ([]*unstructured.Unstructured, error) {
	items, err := decodeFile(name, data)
	if err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, len(items))
	for i, it := range items {
		out[i] = it.obj
	}
	return out, nil
}

// item is a decoded object and where it came from.
type item struct {
	obj  *unstructured.Unstructured
	file string
	line int
	// typed are the object's fields written as one unquoted reference.
	typed []string
}

// value is one decoded document: a JSON-compatible value, its line, and
// for YAML its node tree and the lines of its top-level "items" entries.
type value struct {
	v         any
	line      int
	itemLines []int
	node      *yaml.Node
	base      int // line before the document, to add to node lines
}

// lineOf returns the line of the first scalar equal to s in the document,
// or the document's line.
func (v value) lineOf(s string) int {
	if n := findScalar(v.node, s); n != nil {
		return v.base + n.Line
	}
	return v.line
}

func findScalar(n *yaml.Node, s string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Value == s {
		return n
	}
	for _, c := range n.Content {
		if f := findScalar(c, s); f != nil {
			return f
		}
	}
	return nil
}

// decodeFile decodes and validates the objects of one file.
func decodeFile(name string, data []byte) (items []item, err error) {
	defer func() {
		if r := recover(); r != nil {
			items, err = nil, errorf(name, 0, "decoder failed: %v", r)
		}
	}()
	values, err := decodeValues(name, data)
	if err != nil {
		return nil, err
	}
	for _, v := range values {
		objs, err := objectsOf(name, v)
		if err != nil {
			return nil, err
		}
		items = append(items, objs...)
	}
	return items, nil
}

var bom = []byte("\uFEFF")

// decodeValues decodes every non-empty document of a file.
func decodeValues(name string, data []byte) ([]value, error) {
	data = bytes.TrimPrefix(data, bom)
	if strings.EqualFold(path.Ext(name), ".json") {
		return decodeJSON(name, data)
	}
	var out []value
	for _, c := range splitDocuments(data) {
		v, ok, err := decodeDocument(name, c)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// decodeJSON decodes a stream of JSON values; null values are skipped.
func decodeJSON(name string, data []byte) ([]value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	lines := lineCounter{data: data}
	var out []value
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			off := dec.InputOffset()
			if se, ok := errors.AsType[*json.SyntaxError](err); ok {
				off = se.Offset
			} else if errors.Is(err, io.ErrUnexpectedEOF) {
				off = int64(len(data))
			}
			return nil, errorf(name, lines.at(off), "invalid JSON: %s", jsonMessage(err))
		}
		line := lines.at(dec.InputOffset() - int64(len(raw)))
		var v any
		if err := utiljson.Unmarshal(raw, &v); err != nil {
			return nil, errorf(name, line, "invalid JSON: %s", jsonMessage(err))
		}
		if v != nil {
			out = append(out, value{v: v, line: line})
		}
	}
}

func jsonMessage(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return err.Error()
}

// lineCounter maps increasing byte offsets to 1-based lines in linear
// total time.
type lineCounter struct {
	data []byte
	off  int64
	line int
}

func (c *lineCounter) at(off int64) int {
	off = min(max(off, 0), int64(len(c.data)))
	if off < c.off {
		c.off, c.line = 0, 0
	}
	c.line += bytes.Count(c.data[c.off:off], []byte("\n"))
	c.off = off
	return c.line + 1
}

// errLine is the line reported with an error that has no better one.
func errLine(line int) int { return max(line, 1) }

// describe names the kind of a decoded JSON-compatible value.
func describe(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// nodeDescribe names the kind of a YAML node.
func nodeDescribe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	default:
		return "a mapping"
	}
}
