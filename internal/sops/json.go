package sops

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"time"
)

// parseJSON parses a JSON file holding one object, keeping key order, with
// numbers as SOPS reads them (int when they fit, else float64).
func parseJSON(data []byte) ([]*node, *node, error) {
	p := &jsonParser{dec: json.NewDecoder(bytes.NewReader(data)), lines: data}
	p.dec.UseNumber()
	tok, err := p.dec.Token()
	if d, ok := tok.(json.Delim); err != nil || !ok || d != '{' {
		return nil, nil, malformed(1, "an encrypted JSON file holds one object")
	}
	n, err := p.object(0)
	if err != nil {
		return nil, nil, err
	}
	if _, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, malformed(p.line(), "an encrypted JSON file holds one object")
	}
	return []*node{n.without(metadataKey)}, n.get(metadataKey), nil
}

type jsonParser struct {
	dec   *json.Decoder
	lines []byte
}

// line is the line of the decoder's position.
func (p *jsonParser) line() int {
	off := min(int(p.dec.InputOffset()), len(p.lines))
	return bytes.Count(p.lines[:off], []byte("\n")) + 1
}

func (p *jsonParser) object(depth int) (*node, error) {
	n := &node{kind: mappingNode, line: p.line()}
	for {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, malformed(p.line(), "invalid JSON")
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return n, nil
		}
		k, ok := tok.(string)
		if !ok {
			return nil, malformed(p.line(), "invalid JSON")
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, k)
		n.vals = append(n.vals, v)
	}
}

func (p *jsonParser) array(depth int) (*node, error) {
	n := &node{kind: sequenceNode, line: p.line()}
	for p.dec.More() {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.vals = append(n.vals, v)
	}
	if _, err := p.dec.Token(); err != nil {
		return nil, malformed(p.line(), "invalid JSON")
	}
	return n, nil
}

func (p *jsonParser) value(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, malformed(p.line(), "nested too deeply")
	}
	tok, err := p.dec.Token()
	if err != nil {
		return nil, malformed(p.line(), "invalid JSON")
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return p.object(depth)
		}
		if t == '[' {
			return p.array(depth)
		}
		return nil, malformed(p.line(), "invalid JSON")
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 0); err == nil {
			return &node{v: int(i), line: p.line()}, nil
		}
		f, err := t.Float64()
		if err != nil {
			return nil, malformed(p.line(), "invalid number")
		}
		return &node{v: f, line: p.line()}, nil
	}
	return &node{v: tok, line: p.line()}, nil
}

// jsonHasMetadata reports whether data is a JSON object with a top-level
// sops key.
func jsonHasMetadata(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if tok == metadataKey {
			return true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return false
}

// emitJSON writes one object, indented, keys in order.
func emitJSON(n *node) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, n); err != nil {
		return nil, errEncode
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, errEncode
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, n *node) error {
	switch n.kind {
	case mappingNode:
		b.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			if err := writeJSON(b, n.vals[i]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	case sequenceNode:
		b.WriteByte('[')
		for i, v := range n.vals {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, v); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	}
	v := n.v
	switch t := v.(type) {
	case []byte:
		v = string(t)
	case time.Time:
		v = t.Format(time.RFC3339Nano)
	}
	vb, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(vb)
	return nil
}
