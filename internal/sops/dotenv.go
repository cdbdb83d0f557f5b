package sops

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
)

// The separators of a flattened dotenv metadata key, as SOPS writes them:
// sops_age__list_0__map_recipient is sops.age[0].recipient.
const (
	mapSep  = "__map_"
	listSep = "__list_"
)

// parseDotenv parses KEY=VALUE lines (\n in a value is a newline); keys
// starting with sops_ are the flattened sops block.
func parseDotenv(data []byte) ([]*node, *node, error) {
	doc := &node{kind: mappingNode, line: 1}
	md := &flat{}
	for i, raw := range bytes.Split(data, []byte("\n")) {
		line := string(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, nil, malformed(i+1, "a dotenv line without =")
		}
		v = strings.ReplaceAll(v, `\n`, "\n")
		if rest, isMeta := strings.CutPrefix(k, metadataKey+"_"); isMeta {
			if err := md.place(tokens(rest), v, i+1); err != nil {
				return nil, nil, err
			}
			continue
		}
		doc.keys = append(doc.keys, k)
		doc.vals = append(doc.vals, &node{v: v, line: i + 1})
	}
	if md.empty() {
		return []*node{doc}, nil, nil
	}
	return []*node{doc}, md.node(), nil
}

// dotenvHasMetadata reports whether a dotenv file has a sops_ key.
func dotenvHasMetadata(data []byte) bool {
	for _, line := range bytes.Split(data, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(metadataKey+"_")) && bytes.Contains(line, []byte("=")) {
			return true
		}
	}
	return false
}

// tokens splits a flattened key into map keys (string) and list indexes
// (int; -1 if not a number).
func tokens(k string) []any {
	var out []any
	cur, list := k, false
	for {
		i, j := strings.Index(cur, mapSep), strings.Index(cur, listSep)
		next, sepLen, nextList := -1, 0, false
		switch {
		case i >= 0 && (j < 0 || i < j):
			next, sepLen = i, len(mapSep)
		case j >= 0:
			next, sepLen, nextList = j, len(listSep), true
		}
		seg := cur
		if next >= 0 {
			seg = cur[:next]
		}
		out = append(out, token(seg, list))
		if next < 0 {
			return out
		}
		cur, list = cur[next+sepLen:], nextList
	}
}

func token(seg string, list bool) any {
	if !list {
		return seg
	}
	n, err := strconv.Atoi(seg)
	if err != nil || n < 0 || n > 1000 {
		return -1
	}
	return n
}

// flat rebuilds the nested sops block from flattened keys.
type flat struct {
	line    int
	value   *node
	keys    []string
	subkeys map[string]*flat
	items   map[int]*flat
}

func (f *flat) empty() bool { return f.value == nil && len(f.keys) == 0 && len(f.items) == 0 }

func (f *flat) place(path []any, v string, line int) error {
	if f.line == 0 {
		f.line = line
	}
	if len(path) == 0 {
		if f.value != nil || !f.empty() {
			return malformed(line, "a duplicate sops_ key")
		}
		f.value = &node{v: v, line: line}
		return nil
	}
	if f.value != nil {
		return malformed(line, "a duplicate sops_ key")
	}
	var next *flat
	switch t := path[0].(type) {
	case string:
		if len(f.items) > 0 {
			return malformed(line, "a sops_ key is both a list and a mapping")
		}
		if f.subkeys == nil {
			f.subkeys = map[string]*flat{}
		}
		if next = f.subkeys[t]; next == nil {
			next = &flat{}
			f.subkeys[t] = next
			f.keys = append(f.keys, t)
		}
	case int:
		if t < 0 || len(f.keys) > 0 {
			return malformed(line, "an invalid sops_ list key")
		}
		if f.items == nil {
			f.items = map[int]*flat{}
		}
		if next = f.items[t]; next == nil {
			next = &flat{}
			f.items[t] = next
		}
	}
	return next.place(path[1:], v, line)
}

func (f *flat) node() *node {
	if f.value != nil {
		return f.value
	}
	if len(f.items) > 0 {
		n := &node{kind: sequenceNode, line: f.line}
		idx := make([]int, 0, len(f.items))
		for i := range f.items {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		for _, i := range idx {
			n.vals = append(n.vals, f.items[i].node())
		}
		return n
	}
	n := &node{kind: mappingNode, line: f.line}
	for _, k := range f.keys {
		n.keys = append(n.keys, k)
		n.vals = append(n.vals, f.subkeys[k].node())
	}
	return n
}

// emitDotenv writes KEY=VALUE lines, newlines in values as \n.
func emitDotenv(n *node) []byte {
	var b bytes.Buffer
	for i, k := range n.keys {
		v, _ := n.vals[i].v.(string)
		b.WriteString(k + "=" + strings.ReplaceAll(v, "\n", `\n`) + "\n")
	}
	return b.Bytes()
}

// emit writes decrypted documents in format f.
func emit(docs []*node, f Format) ([]byte, error) {
	switch f {
	case YAML:
		return emitYAML(docs)
	case Dotenv:
		return emitDotenv(docs[0]), nil
	case Binary:
		v := docs[0].vals[0].v
		if b, ok := v.([]byte); ok {
			return b, nil
		}
		s, _ := v.(string)
		return []byte(s), nil
	}
	return emitJSON(docs[0])
}
