package substitute

import (
	yaml "go.yaml.in/yaml/v3"
)

// quoted are the styles of a scalar written other than plain.
const quoted = yaml.TaggedStyle | yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle

// TypedFields returns the fields of the object n (a YAML mapping node)
// whose value is written as an unquoted scalar that is exactly one
// reference, such as "replicas: ${REPLICAS}", named as Object names them.
// Quoted ("${PORT}"), block and tagged scalars are not typed, nor values
// merged in with "<<".
func TypedFields(n *yaml.Node) []string {
	var out []string
	typedFields(n, "", 0, &out)
	return out
}

// maxDepth bounds the walk; deeper values are not typed.
const maxDepth = 100

func typedFields(n *yaml.Node, field string, depth int, out *[]string) {
	if n == nil || depth > maxDepth {
		return
	}
	switch n.Kind {
	case yaml.AliasNode:
		typedFields(n.Alias, field, depth+1, out)
	case yaml.ScalarNode:
		if n.Style&quoted == 0 && n.Tag == "!!str" {
			if _, ok := wholeReference(n.Value); ok {
				*out = append(*out, field)
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				continue
			}
			typedFields(n.Content[i+1], join(field, k.Value), depth+1, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			typedFields(c, index(field, i), depth+1, out)
		}
	}
}
