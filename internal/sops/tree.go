package sops

import (
	"strconv"
	"time"
)

// kind is the kind of a tree node.
type kind uint8

const (
	scalarNode kind = iota
	mappingNode
	sequenceNode
)

// node is a file's content as SOPS walks it: mappings keep their key
// order, which the MAC depends on.
type node struct {
	kind kind
	// keys are a mapping's keys; vals its values, or a sequence's items.
	keys []string
	vals []*node
	// v is a scalar: nil, string, int, float64, bool, []byte or time.Time.
	v    any
	line int
}

// get returns the value of key in a mapping, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != mappingNode {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// without returns a mapping without key; other nodes are returned as is.
func (n *node) without(key string) *node {
	if n == nil || n.kind != mappingNode {
		return n
	}
	out := &node{kind: mappingNode, line: n.line}
	for i, k := range n.keys {
		if k != key {
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, n.vals[i])
		}
	}
	return out
}

// toBytes is what the MAC hashes for a scalar, as SOPS computes it.
func toBytes(v any) ([]byte, bool) {
	switch v := v.(type) {
	case string:
		return []byte(v), true
	case []byte:
		return v, true
	case int:
		return []byte(strconv.Itoa(v)), true
	case float64:
		return []byte(strconv.FormatFloat(v, 'f', -1, 64)), true
	case bool:
		if v {
			return []byte("True"), true
		}
		return []byte("False"), true
	case time.Time:
		b, err := v.MarshalText()
		return b, err == nil
	}
	return nil, false
}
