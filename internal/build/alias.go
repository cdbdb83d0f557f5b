package build

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	yaml "go.yaml.in/yaml/v3"
)

const (
	// aliasSlack is how much aliases may add to a document beyond doubling
	// it, in the units of weigh (about bytes).
	aliasSlack = 1 << 20
	// maxDepth is the deepest nesting accepted, that of the Kubernetes
	// JSON decoder.
	maxDepth = 10_000
)

// checkExpansion refuses a YAML document whose aliases would expand it to
// more than twice its parsed size plus 1 MiB, whose aliases
// refer to themselves, or whose expansion nests deeper than maxDepth. The
// size of a node is 1 plus its scalar length, so large scalars count. It
// runs in time and memory linear in the parsed document, so "billion
// laughs" documents fail before anything expands them. It returns the line
// of the offending node with the error.
func checkExpansion(doc *yaml.Node) (int, error) {
	parsed, aliases := weigh(doc)
	if !aliases {
		return 0, nil
	}
	e := expansion{
		limit: 2*parsed + aliasSlack,
		memo:  make(map[*yaml.Node]weight),
		open:  make(map[*yaml.Node]bool),
	}
	if _, err := e.expand(doc, 0); err != nil {
		return e.line, err
	}
	return 0, nil
}

// weigh returns the size of the parsed tree, aliases counted once, and
// whether it has any alias.
func weigh(n *yaml.Node) (int64, bool) {
	size := 1 + int64(len(n.Value))
	aliases := n.Kind == yaml.AliasNode
	for _, c := range n.Content {
		s, a := weigh(c)
		size += s
		aliases = aliases || a
	}
	return size, aliases
}

type weight struct {
	size   int64
	height int
}

type expansion struct {
	limit int64
	memo  map[*yaml.Node]weight
	open  map[*yaml.Node]bool
	line  int
}

var (
	errAliasBomb  = errors.New("aliases expand the document too much (a \"billion laughs\" document?)")
	errAliasCycle = errors.New("alias refers to a node that contains it")
	errTooDeep    = fmt.Errorf("document nests deeper than %d levels", maxDepth)
)

// expand returns the weight of n with aliases expanded, at nesting depth.
func (e *expansion) expand(n *yaml.Node, depth int) (weight, error) {
	if w, ok := e.memo[n]; ok {
		return w, e.check(n, w, depth)
	}
	if e.open[n] {
		e.line = n.Line
		return weight{}, errAliasCycle
	}
	e.open[n] = true
	defer delete(e.open, n)
	w := weight{size: 1 + int64(len(n.Value))}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		a, err := e.expand(n.Alias, depth)
		if err != nil {
			return weight{}, err
		}
		w = a
	}
	for _, c := range n.Content {
		cw, err := e.expand(c, depth+1)
		if err != nil {
			return weight{}, err
		}
		w.size += cw.size
		w.height = max(w.height, cw.height+1)
		if err := e.check(n, w, depth); err != nil {
			return weight{}, err
		}
	}
	e.memo[n] = w
	return w, e.check(n, w, depth)
}

func (e *expansion) check(n *yaml.Node, w weight, depth int) error {
	switch {
	case w.size > e.limit:
		e.line = n.Line
		return errAliasBomb
	case depth+w.height > maxDepth:
		e.line = n.Line
		return errTooDeep
	}
	return nil
}

// checkAliases applies checkExpansion to every document of data that
// parses as YAML; data that does not parse is left to its consumer.
func checkAliases(data []byte) (int, error) {
	if !bytes.Contains(data, []byte("*")) {
		return 0, nil // no alias can occur without '*'
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return 0, nil
			}
			return 0, nil //nolint:nilerr // not YAML: its consumer reports it
		}
		if line, err := checkExpansion(&doc); err != nil {
			return line, err
		}
	}
}
