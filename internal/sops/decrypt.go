package sops

import (
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"hash"
	"path"
	"strings"

	"filippo.io/age"
)

// Format is a SOPS file format.
type Format int

// The formats, chosen by file extension as the sops CLI does.
const (
	Binary Format = iota
	YAML
	JSON
	Dotenv
	INI
)

// FormatOf returns the format sops uses for a file name: .yaml and .yml
// are YAML, .json JSON, .env dotenv, .ini INI, anything else binary.
func FormatOf(name string) Format {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml":
		return YAML
	case ".json":
		return JSON
	case ".env":
		return Dotenv
	case ".ini":
		return INI
	}
	return Binary
}

// metadataKey is the top-level key (or, in dotenv files, key prefix) of
// the sops block.
const metadataKey = "sops"

// file is a parsed encrypted file: its documents (one, except in YAML)
// without the sops block, and the block.
type file struct {
	docs []*node
	md   *metadata
	// ini is the INI file the docs were read from, for its comments.
	ini *iniFile
}

// IsEncrypted reports whether data, a file in format f, is SOPS-encrypted:
// a YAML document or a JSON object with a top-level sops key, a dotenv file
// with a sops_ key, an INI file with a [sops] section. A file that cannot
// be parsed is not encrypted: decoding it reports the error.
func IsEncrypted(data []byte, f Format) bool {
	if !strings.Contains(string(data), metadataKey) {
		return false
	}
	switch f {
	case YAML:
		return yamlHasMetadata(data)
	case Dotenv:
		return dotenvHasMetadata(data)
	case INI:
		return iniHasMetadata(data)
	default:
		return jsonHasMetadata(data)
	}
}

// Recipients returns the age public keys an encrypted file is encrypted
// for.
func Recipients(data []byte, f Format) ([]string, error) {
	fl, err := parse(data, f)
	if err != nil {
		return nil, err
	}
	return fl.md.recipients(), nil
}

// Decrypt decrypts data, an encrypted file in format f, with the first of
// ids that opens it, verifies its MAC, and returns the plaintext in the
// same format without the sops block (for binary files, the original
// bytes). Failures are [*Error] values and never contain plaintext.
func Decrypt(data []byte, f Format, ids []age.Identity) ([]byte, error) {
	fl, err := parse(data, f)
	if err != nil {
		return nil, err
	}
	key, err := fl.md.dataKey(ids)
	if err != nil {
		return nil, err
	}
	if err := fl.decrypt(key); err != nil {
		return nil, err
	}
	if fl.ini != nil {
		fl.ini.decryptComments(key)
		return fl.ini.emit(), nil
	}
	return emit(fl.docs, f)
}

func parse(data []byte, f Format) (*file, error) {
	var docs []*node
	var md *node
	var ini *iniFile
	var err error
	switch f {
	case YAML:
		docs, md, err = parseYAML(data)
	case Dotenv:
		docs, md, err = parseDotenv(data)
	case INI:
		if ini, md, err = parseINI(data); err == nil {
			docs = []*node{ini.tree()}
		}
	default:
		docs, md, err = parseJSON(data)
	}
	if err != nil {
		return nil, err
	}
	if md == nil {
		return nil, malformed(0, "no sops metadata")
	}
	meta, err := parseMetadata(md)
	if err != nil {
		return nil, err
	}
	if f == Binary {
		if len(docs) != 1 || len(docs[0].keys) != 1 || docs[0].keys[0] != "data" {
			return nil, malformed(0, "an encrypted binary file holds one key, data")
		}
	}
	return &file{docs: docs, md: meta, ini: ini}, nil
}

// decrypt decrypts the documents in place and checks the MAC.
func (fl *file) decrypt(key []byte) error {
	w := &walker{key: key, rules: fl.md.rules, macOnlyEnc: fl.md.macOnlyEnc, mac: sha512.New()}
	if w.macOnlyEnc {
		w.mac.Write(macOnlyEncryptedInit[:])
	}
	for _, d := range fl.docs {
		if err := w.walk(d, nil); err != nil {
			return err
		}
	}
	want, err := decryptValue(fl.md.mac, key, fl.md.lastModified)
	ws, ok := want.(string)
	if err != nil || !ok {
		return &Error{Line: fl.md.line, Err: fmt.Errorf("%w (the MAC itself does not authenticate)", ErrMAC)}
	}
	got := fmt.Sprintf("%X", w.mac.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(got), []byte(ws)) != 1 {
		return &Error{Line: fl.md.line, Err: ErrMAC}
	}
	return nil
}

// macOnlyEncryptedInit starts the MAC of a file with mac_only_encrypted
// set, as SOPS does, so it differs from the MAC over all values.
var macOnlyEncryptedInit = [32]byte{0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0xb, 0xb, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69}

// walker decrypts values in SOPS's walk order and hashes them into the MAC.
type walker struct {
	key        []byte
	rules      rules
	macOnlyEnc bool
	mac        hash.Hash
}

func (w *walker) walk(n *node, p []string) error {
	switch n.kind {
	case mappingNode:
		for i, k := range n.keys {
			if err := w.walk(n.vals[i], append(p[:len(p):len(p)], k)); err != nil {
				return err
			}
		}
	case sequenceNode:
		for _, v := range n.vals {
			if err := w.walk(v, p); err != nil {
				return err
			}
		}
	default:
		return w.leaf(n, p)
	}
	return nil
}

func (w *walker) leaf(n *node, p []string) error {
	if n.v == nil {
		return nil
	}
	enc := w.rules.encrypted(p)
	if enc {
		s, ok := n.v.(string)
		if !ok {
			return malformed(n.line, fmt.Sprintf("%s should be encrypted and is not", strings.Join(p, ".")))
		}
		v, err := decryptValue(s, w.key, strings.Join(p, ":")+":")
		if err != nil {
			return malformed(n.line, fmt.Sprintf("%s: %s", strings.Join(p, "."), err))
		}
		n.v = v
	}
	if !w.macOnlyEnc || enc {
		b, ok := toBytes(n.v)
		if !ok {
			return malformed(n.line, fmt.Sprintf("%s has a value of an unsupported type", strings.Join(p, ".")))
		}
		w.mac.Write(b)
	}
	return nil
}
