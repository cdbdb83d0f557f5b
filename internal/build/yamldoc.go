package build

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	sigsyaml "sigs.k8s.io/yaml"
)

// chunk is the text of one YAML document and the line it starts on.
type chunk struct {
	data  []byte
	start int
}

// splitDocuments splits YAML text at "---" lines, as kubectl does. A
// "---" followed by content on the same line is left in place; the
// document decoder then reports it.
func splitDocuments(data []byte) []chunk {
	var out []chunk
	start, line, begin := 1, 1, 0
	for off := 0; off < len(data); line++ {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			next = off + end + 1
		}
		if isSeparator(data[off:next]) {
			out = append(out, chunk{data: data[begin:off], start: start})
			begin, start = next, line+1
		}
		off = next
	}
	return append(out, chunk{data: data[begin:], start: start})
}

func isSeparator(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("---"))
	if !ok {
		return false
	}
	trimmed := bytes.TrimSpace(rest)
	if len(trimmed) == 0 {
		return true
	}
	return trimmed[0] == '#' && len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t')
}

// decodeDocument decodes one YAML document to a JSON-compatible value with
// the semantics kubectl uses (YAML 1.1 via sigs.k8s.io/yaml). It reports
// false for an empty or null document.
func decodeDocument(name string, c chunk) (value, bool, error) {
	dec := yaml.NewDecoder(bytes.NewReader(c.data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return value{}, false, nil
		}
		return value{}, false, syntaxError(name, c, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return value{}, false, syntaxError(name, c, err)
	default:
		return value{}, false, errorf(name, c.start+extra.Line-1, "a second document starts here: put --- on a line of its own")
	}
	if len(doc.Content) == 0 {
		return value{}, false, nil
	}
	root := doc.Content[0]
	line := c.start + root.Line - 1
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return value{}, false, nil
	}
	if l, err := checkExpansion(&doc); err != nil {
		return value{}, false, errorf(name, c.start+errLine(l)-1, "%w", err)
	}
	if root.Kind != yaml.MappingNode {
		return value{}, false, errorf(name, line, "not a mapping (a Kubernetes object): the document is %s", nodeDescribe(root))
	}
	j, err := sigsyaml.YAMLToJSON(c.data)
	if err != nil {
		msg, l := splitYAMLError(err)
		return value{}, false, errorf(name, c.start+errLine(l)-1, "invalid YAML: %s", msg)
	}
	var v any
	if err := utiljson.Unmarshal(j, &v); err != nil {
		return value{}, false, errorf(name, line, "invalid YAML: %v", err)
	}
	return value{v: v, line: line, itemLines: itemLines(root, c.start-1), node: root, base: c.start - 1}, true, nil
}

// itemLines returns the lines of the entries of a top-level "items" list.
func itemLines(root *yaml.Node, base int) []int {
	nodes := itemNodes(root)
	if nodes == nil {
		return nil
	}
	lines := make([]int, len(nodes))
	for j, n := range nodes {
		lines[j] = base + n.Line
	}
	return lines
}

// itemNodes returns the entries of a top-level "items" list, nil if none.
func itemNodes(root *yaml.Node) []*yaml.Node {
	if root == nil {
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "items" {
			continue
		}
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		return v.Content
	}
	return nil
}

// splitYAMLError returns the message of a go-yaml error ("yaml: line 3:
// mapping values are not allowed") and the line it names, 0 if none.
func splitYAMLError(err error) (string, int) {
	msg := err.Error()
	if i := strings.Index(msg, "yaml: "); i >= 0 {
		msg = msg[i+len("yaml: "):]
	}
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return msg, 0
	}
	num, text, ok := strings.Cut(rest, ": ")
	line, err := strconv.Atoi(num)
	if !ok || err != nil {
		return msg, 0
	}
	return text, line
}

// maxLocateBytes bounds the documents whose syntax errors are located by
// re-parsing prefixes; larger ones report the line go-yaml gives.
const maxLocateBytes = 1 << 20

// syntaxError reports a YAML syntax error in c with the best line known.
// go-yaml names the line where the enclosing construct starts (0-based) for
// parser errors, so the first line whose prefix of the document fails the
// same way is searched for instead.
func syntaxError(name string, c chunk, err error) error {
	msg, line := splitYAMLError(err)
	if len(c.data) <= maxLocateBytes {
		if l := locate(c.data, msg); l > 0 {
			line = l
		}
	}
	return errorf(name, c.start+errLine(line)-1, "invalid YAML: %s", msg)
}

// locate returns the smallest number of lines of data whose parse fails
// with msg, by bisection, or 0.
func locate(data []byte, msg string) int {
	ends := lineEnds(data)
	lo, hi := 1, len(ends)
	for lo < hi {
		mid := lo + (hi-lo)/2
		if failsWith(data[:ends[mid-1]], msg) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo >= 1 && lo <= len(ends) && failsWith(data[:ends[lo-1]], msg) {
		return lo
	}
	return 0
}

// lineEnds returns the offset just past each line of data.
func lineEnds(data []byte) []int {
	var ends []int
	for off := 0; off < len(data); {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			ends = append(ends, len(data))
			break
		}
		off += i + 1
		ends = append(ends, off)
	}
	return ends
}

func failsWith(data []byte, msg string) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for range 2 {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil {
			m, _ := splitYAMLError(err)
			return strings.EqualFold(m, msg)
		}
	}
	return false
}
