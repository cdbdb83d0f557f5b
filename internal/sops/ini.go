package sops

import (
	"bytes"
	"slices"
	"strings"
)

// iniDefault is the name of the section of the keys before any header,
// always the first section, as sops reads INI files.
const iniDefault = "DEFAULT"

// iniSection is one section of an INI file: sections may repeat, and each
// is a top-level item of the tree SOPS walks, its keys below it.
type iniSection struct {
	name string
	// comment is the comment above the header (encrypted in an encrypted
	// file), without its leading ; or #.
	comment string
	body    *node
	// comments[i] is the comment above key i.
	comments []string
}

// iniFile is a parsed INI file: its sections in order.
type iniFile struct {
	sections []*iniSection
}

// tree is the file as SOPS walks it: a mapping of section names (which may
// repeat) to mappings of their keys, without the sops section.
func (f *iniFile) tree() *node {
	n := &node{kind: mappingNode, line: 1}
	for _, s := range f.sections {
		n.keys = append(n.keys, s.name)
		n.vals = append(n.vals, s.body)
	}
	return n
}

// parseINI reads an INI file as sops does (the ini.v1 package's defaults,
// sections allowed to repeat): `[section]` headers, `key = value` or
// `key: value` lines, ; and # comments (also after a value), values in
// "…", `…` or """…""" (which may span lines). The [sops] section is the
// sops block, its keys flattened as in dotenv files and newlines escaped.
func parseINI(data []byte) (*iniFile, *node, error) {
	f := &iniFile{sections: []*iniSection{newSection(iniDefault, 1)}}
	cur := f.sections[0]
	var md *flat
	var comment []string
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		num := i + 1
		line := strings.TrimLeft(lines[i], " \t\r\v\f")
		if strings.TrimSpace(line) == "" {
			continue
		}
		switch line[0] {
		case ';', '#':
			comment = append(comment, strings.TrimSpace(line))
			continue
		case '[':
			end := strings.LastIndexByte(line, ']')
			if end < 0 {
				return nil, nil, malformed(num, "an INI section header without ]")
			}
			name := strings.TrimSpace(line[1:end])
			if name == "" {
				return nil, nil, malformed(num, "an INI section without a name")
			}
			if name == metadataKey {
				if md != nil {
					return nil, nil, malformed(num, "a second [sops] section")
				}
				md, cur = &flat{line: num}, nil
				comment = nil
				continue
			}
			if name == iniDefault {
				cur = f.sections[0]
			} else {
				cur = newSection(name, num)
				f.sections = append(f.sections, cur)
			}
			cur.comment, comment = joinComment(comment), nil
			continue
		}
		key, rest, err := iniKey(line, num)
		if err != nil {
			return nil, nil, err
		}
		value, inline, consumed, err := iniValue(rest, lines[i+1:], num)
		if err != nil {
			return nil, nil, err
		}
		i += consumed
		if inline != "" {
			comment = append(comment, inline)
		}
		if cur == nil { // in [sops]
			if err := md.place(tokens(key), strings.ReplaceAll(value, `\n`, "\n"), num); err != nil {
				return nil, nil, err
			}
			comment = nil
			continue
		}
		cur.set(key, value, joinComment(comment), num)
		comment = nil
	}
	if md == nil || md.empty() {
		return f, nil, nil
	}
	return f, md.node(), nil
}

func newSection(name string, line int) *iniSection {
	return &iniSection{name: name, body: &node{kind: mappingNode, line: line}}
}

// set adds key, or replaces its value where it first appeared, as a
// repeated key does in ini.v1.
func (s *iniSection) set(key, value, comment string, line int) {
	for i, k := range s.body.keys {
		if k == key {
			s.body.vals[i] = &node{v: value, line: line}
			s.comments[i] = comment
			return
		}
	}
	s.body.keys = append(s.body.keys, key)
	s.body.vals = append(s.body.vals, &node{v: value, line: line})
	s.comments = append(s.comments, comment)
}

// joinComment joins comment lines and strips the first one's ; or # (and
// the spaces after it), as sops stores a comment.
func joinComment(lines []string) string {
	c := strings.Join(lines, "\n")
	if strings.HasPrefix(c, ";") {
		return strings.TrimLeft(c, "; ")
	}
	if strings.HasPrefix(c, "#") {
		return strings.TrimLeft(c, "# ")
	}
	return c
}

// iniKey splits a key line at its first = or :, the key possibly quoted.
func iniKey(line string, num int) (key, rest string, err error) {
	for _, q := range []string{`"""`, "`", `"`} {
		if after, ok := strings.CutPrefix(line, q); ok {
			end := strings.Index(after, q)
			if end < 0 {
				return "", "", malformed(num, "an INI key without its closing quote")
			}
			key, rest = after[:end], strings.TrimLeft(after[end+len(q):], " \t")
			if rest == "" || (rest[0] != '=' && rest[0] != ':') {
				return "", "", malformed(num, "an INI line without = or :")
			}
			return key, rest[1:], nil
		}
	}
	i := strings.IndexAny(line, "=:")
	if i < 0 {
		return "", "", malformed(num, "an INI line without = or :")
	}
	return strings.TrimSpace(line[:i]), line[i+1:], nil
}

// iniValue reads a value: quoted with """ or ` (which may continue on the
// next lines, returned as consumed), or plain, where ; or # starts an
// inline comment and surrounding " or ' quotes are removed.
func iniValue(s string, next []string, num int) (value, comment string, consumed int, err error) {
	s = strings.TrimLeft(s, " \t\r\v\f")
	if s == "" {
		return "", "", 0, nil
	}
	for _, q := range []string{`"""`, "`"} {
		if q == `"""` && len(s) <= 3 || !strings.HasPrefix(s, q) {
			continue
		}
		body := s[len(q):]
		if end := strings.LastIndex(body, q); end >= 0 {
			return body[:end], "", 0, nil
		}
		var b strings.Builder
		b.WriteString(body + "\n")
		for j, l := range next {
			if end := strings.LastIndex(l, q); end >= 0 {
				b.WriteString(l[:end])
				return b.String(), "", j + 1, nil
			}
			b.WriteString(l + "\n")
		}
		return "", "", 0, malformed(num, "an INI value without its closing "+q)
	}
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "#;"); i >= 0 {
		comment, s = s[i:], strings.TrimSpace(s[:i])
	}
	if len(s) >= 2 && (surrounded(s, '"') || surrounded(s, '\'')) {
		s = s[1 : len(s)-1]
	}
	return s, comment, 0, nil
}

// surrounded reports whether s starts and ends with q and holds no other.
func surrounded(s string, q byte) bool {
	return s[0] == q && s[len(s)-1] == q && strings.Count(s, string(q)) == 2
}

// iniHasMetadata reports whether an INI file has a [sops] section.
func iniHasMetadata(data []byte) bool {
	for _, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if bytes.HasPrefix(line, []byte("[")) {
			if end := bytes.LastIndexByte(line, ']'); end > 0 && string(bytes.TrimSpace(line[1:end])) == metadataKey {
				return true
			}
		}
	}
	return false
}

// decryptComments opens the encrypted comments with the data key, each
// authenticated with its section's path as sops does; a comment that does
// not open stays as it is (sops assumes it was never encrypted).
func (f *iniFile) decryptComments(key []byte) {
	open := func(c, aad string) string {
		if !strings.HasPrefix(c, "ENC[") {
			return c
		}
		if plain, typ, err := openValue(c, key, aad); err == nil && typ == "comment" {
			return string(plain)
		}
		return c
	}
	for _, s := range f.sections {
		aad := s.name + ":"
		s.comment = open(s.comment, aad)
		for i, c := range s.comments {
			s.comments[i] = open(c, aad)
		}
	}
}

// emit writes the file as sops writes a decrypted INI file (ini.v1's
// pretty format): comments above what they belong to, "=" aligned within
// each section, a blank line between sections, an empty DEFAULT section
// left out.
func (f *iniFile) emit() []byte {
	var b bytes.Buffer
	for i, s := range f.sections {
		writeComment(&b, s.comment, false)
		if i > 0 || s.name != iniDefault {
			b.WriteString("[" + s.name + "]\n")
		} else if len(s.body.keys) == 0 {
			continue
		}
		names := make([]string, len(s.body.keys))
		width := 0
		for j, k := range s.body.keys {
			names[j] = iniQuoteKey(k)
			width = max(width, len(names[j]))
		}
		for j, name := range names {
			writeComment(&b, s.comments[j], true)
			v, _ := s.body.vals[j].v.(string)
			b.WriteString(name + strings.Repeat(" ", width-len(name)) + " = " + iniQuoteValue(v) + "\n")
		}
		if i < len(f.sections)-1 {
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

func writeComment(b *bytes.Buffer, c string, trim bool) {
	if c == "" {
		return
	}
	for _, l := range strings.Split(c, "\n") {
		switch {
		case l == "":
			b.WriteString(";\n")
		case l[0] == ';' || l[0] == '#':
			b.WriteString(l[:1] + " " + strings.TrimSpace(l[1:]) + "\n")
		case trim:
			b.WriteString("; " + strings.TrimSpace(l) + "\n")
		default:
			b.WriteString("; " + l + "\n")
		}
	}
}

func iniQuoteKey(k string) string {
	switch {
	case strings.ContainsAny(k, "\"=:"):
		return "`" + k + "`"
	case strings.Contains(k, "`"):
		return `"""` + k + `"""`
	}
	return k
}

func iniQuoteValue(v string) string {
	switch {
	case strings.ContainsAny(v, "\n`"):
		return `"""` + v + `"""`
	case strings.ContainsAny(v, "#;"):
		return "`" + v + "`"
	case strings.TrimSpace(v) != v:
		return `"` + v + `"`
	}
	return v
}

// comment is a comment to encrypt: sops records its type as comment and
// leaves it out of the MAC.
type comment string

// encryptComments encrypts the comments of the sections the rules encrypt,
// authenticated with the section's path, as sops does.
func (f *iniFile) encryptComments(key []byte, rl rules) error {
	seal := func(c, section string) (string, error) {
		if c == "" || !rl.encrypted([]string{section}) {
			return c, nil
		}
		return encryptValue(comment(c), key, section+":")
	}
	for _, s := range f.sections {
		var err error
		if s.comment, err = seal(s.comment, s.name); err != nil {
			return err
		}
		for i, c := range s.comments {
			if s.comments[i], err = seal(c, s.name); err != nil {
				return err
			}
		}
	}
	return nil
}

// emitEncrypted writes the encrypted sections and the sops block as the
// [sops] section, its keys flattened and sorted and newlines escaped, as
// sops writes an encrypted INI file.
func (f *iniFile) emitEncrypted(md *node) []byte {
	var b bytes.Buffer
	flattenMetadata(&b, "", "", md)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	slices.Sort(lines)
	s := newSection(metadataKey, 0)
	for _, l := range lines {
		k, v, _ := strings.Cut(l, "=")
		s.set(k, v, "", 0)
	}
	out := &iniFile{sections: append(slices.Clone(f.sections), s)}
	return out.emit()
}
