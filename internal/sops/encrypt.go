package sops

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// Version is the sops version written into the files this package
// encrypts: the format is that of sops 3.x.
const Version = "3.13.3"

// EncryptOptions say for whom and what to encrypt.
type EncryptOptions struct {
	// Recipients are age public keys (age1…); at least one.
	Recipients []string
	// EncryptedRegex, if set, encrypts only the values below a key it
	// matches (as sops --encrypted-regex); otherwise every value is
	// encrypted except below keys ending in _unencrypted.
	EncryptedRegex string
	// Now is the time recorded as lastmodified; zero means the current time.
	Now time.Time
}

// Encrypt encrypts data, a plaintext file in format f (YAML, JSON, dotenv,
// INI or binary), for the recipients, in the format sops writes, so that
// `sops --decrypt` opens it.
func Encrypt(data []byte, f Format, opts EncryptOptions) ([]byte, error) {
	if len(opts.Recipients) == 0 {
		return nil, fmt.Errorf("encrypting: no age recipient")
	}
	recips := make([]age.Recipient, len(opts.Recipients))
	for i, r := range opts.Recipients {
		p, err := age.ParseX25519Recipient(r)
		if err != nil {
			return nil, fmt.Errorf("encrypting: %q is not an age recipient (age1…)", r)
		}
		recips[i] = p
	}
	docs, ini, err := parsePlain(data, f)
	if err != nil {
		return nil, err
	}
	rl := rules{unencSuffix: "_unencrypted"}
	if opts.EncryptedRegex != "" {
		re, err := regexp.Compile(opts.EncryptedRegex)
		if err != nil {
			return nil, fmt.Errorf("encrypting: invalid encrypted regex: %w", err)
		}
		rl = rules{encRe: re}
	}
	key := make([]byte, dataKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("encrypting: %w", err)
	}
	mac := sha512.New()
	for _, d := range docs {
		if err := encryptTree(d, nil, key, rl, mac); err != nil {
			return nil, err
		}
	}
	if ini != nil {
		if err := ini.encryptComments(key, rl); err != nil {
			return nil, err
		}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	lm := now.UTC().Format(time.RFC3339)
	encMac, err := encryptValue(fmt.Sprintf("%X", mac.Sum(nil)), key, lm)
	if err != nil {
		return nil, err
	}
	md := &node{kind: mappingNode}
	ageList := &node{kind: sequenceNode}
	for i, r := range recips {
		enc, err := wrapKey(key, r)
		if err != nil {
			return nil, err
		}
		ageList.vals = append(ageList.vals, &node{kind: mappingNode, keys: []string{"recipient", "enc"}, vals: []*node{{v: opts.Recipients[i]}, {v: enc}}})
	}
	add := func(k string, v *node) { md.keys, md.vals = append(md.keys, k), append(md.vals, v) }
	add("age", ageList)
	add("lastmodified", &node{v: lm})
	add("mac", &node{v: encMac})
	if opts.EncryptedRegex != "" {
		add("encrypted_regex", &node{v: opts.EncryptedRegex})
	} else {
		add("unencrypted_suffix", &node{v: "_unencrypted"})
	}
	add("version", &node{v: Version})
	if ini != nil {
		return ini.emitEncrypted(md), nil
	}
	return emitEncrypted(docs, md, f)
}

// errAlreadyEncrypted refuses to encrypt an encrypted file.
var errAlreadyEncrypted = fmt.Errorf("encrypting: the file is already encrypted")

// parsePlain parses a plaintext file into documents, and an INI file's
// sections with their comments.
func parsePlain(data []byte, f Format) ([]*node, *iniFile, error) {
	var docs []*node
	var md *node
	var err error
	switch f {
	case YAML:
		docs, md, err = parseYAML(data)
	case Dotenv:
		docs, md, err = parseDotenv(data)
	case JSON:
		docs, md, err = parseJSON(data)
	case INI:
		var ini *iniFile
		if ini, md, err = parseINI(data); err == nil && md == nil {
			return []*node{ini.tree()}, ini, nil
		}
	default:
		return []*node{{kind: mappingNode, keys: []string{"data"}, vals: []*node{{v: string(data)}}}}, nil, nil
	}
	if err == nil && md != nil {
		err = errAlreadyEncrypted
	}
	return docs, nil, err
}

func encryptTree(n *node, p []string, key []byte, rl rules, mac interface{ Write([]byte) (int, error) }) error {
	switch n.kind {
	case mappingNode:
		for i, k := range n.keys {
			if err := encryptTree(n.vals[i], append(p[:len(p):len(p)], k), key, rl, mac); err != nil {
				return err
			}
		}
		return nil
	case sequenceNode:
		for _, v := range n.vals {
			if err := encryptTree(v, p, key, rl, mac); err != nil {
				return err
			}
		}
		return nil
	}
	if n.v == nil {
		return nil
	}
	b, ok := toBytes(n.v)
	if !ok {
		return fmt.Errorf("encrypting: %s has a value of an unsupported type", strings.Join(p, "."))
	}
	mac.Write(b)
	if !rl.encrypted(p) {
		return nil
	}
	enc, err := encryptValue(n.v, key, strings.Join(p, ":")+":")
	if err != nil {
		return err
	}
	n.v = enc
	return nil
}

// encryptValue encrypts one value as ENC[AES256_GCM,…]; an empty string
// stays empty, as sops leaves it.
func encryptValue(v any, key []byte, aad string) (string, error) {
	var plain []byte
	var typ string
	switch v := v.(type) {
	case string:
		if v == "" {
			return "", nil
		}
		plain, typ = []byte(v), "str"
	case comment:
		plain, typ = []byte(v), "comment"
	case []byte:
		plain, typ = v, "bytes"
	case int:
		plain, typ = []byte(strconv.Itoa(v)), "int"
	case float64:
		plain, typ = []byte(strconv.FormatFloat(v, 'f', -1, 64)), "float"
	case bool:
		plain, typ = toBool(v), "bool"
	case time.Time:
		b, err := v.MarshalText()
		if err != nil {
			return "", fmt.Errorf("encrypting a time: %w", err)
		}
		plain, typ = b, "time"
	default:
		return "", fmt.Errorf("encrypting: a value of an unsupported type")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", fmt.Errorf("encrypting: %w", err)
	}
	iv := make([]byte, 32)
	if _, err := rand.Read(iv); err != nil {
		return "", fmt.Errorf("encrypting: %w", err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		return "", fmt.Errorf("encrypting: %w", err)
	}
	out := gcm.Seal(nil, iv, plain, []byte(aad))
	cut := len(out) - gcm.Overhead()
	b64 := base64.StdEncoding.EncodeToString
	return "ENC[AES256_GCM,data:" + b64(out[:cut]) + ",iv:" + b64(iv) + ",tag:" + b64(out[cut:]) + ",type:" + typ + "]", nil
}

func toBool(v bool) []byte {
	b, _ := toBytes(v)
	return b
}

// wrapKey encrypts the data key for one recipient, armored.
func wrapKey(key []byte, r age.Recipient) (string, error) {
	var b bytes.Buffer
	aw := armor.NewWriter(&b)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return "", fmt.Errorf("encrypting the data key: %w", err)
	}
	if _, err := w.Write(key); err != nil {
		return "", fmt.Errorf("encrypting the data key: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("encrypting the data key: %w", err)
	}
	if err := aw.Close(); err != nil {
		return "", fmt.Errorf("encrypting the data key: %w", err)
	}
	return b.String(), nil
}

// emitEncrypted writes the encrypted documents with the sops block.
func emitEncrypted(docs []*node, md *node, f Format) ([]byte, error) {
	switch f {
	case Dotenv:
		var b bytes.Buffer
		b.Write(emitDotenv(docs[0]))
		flattenMetadata(&b, metadataKey, "_", md)
		return b.Bytes(), nil
	case YAML:
		if len(docs) == 0 {
			docs = []*node{{kind: mappingNode}}
		}
		first := docs[0]
		withMD := &node{kind: mappingNode, keys: append(append([]string{}, first.keys...), metadataKey), vals: append(append([]*node{}, first.vals...), md)}
		return emitYAML(append([]*node{withMD}, docs[1:]...))
	}
	d := docs[0]
	withMD := &node{kind: mappingNode, keys: append(append([]string{}, d.keys...), metadataKey), vals: append(append([]*node{}, d.vals...), md)}
	return emitJSON(withMD)
}

// flattenMetadata writes the sops block n as key=value lines, as the
// dotenv and INI stores keep it: its top-level keys joined to prefix with
// sep (dotenv's "sops_", INI's bare keys in the [sops] section), nested
// keys with __map_ and list indexes with __list_.
func flattenMetadata(b *bytes.Buffer, prefix, sep string, n *node) {
	switch n.kind {
	case mappingNode:
		for i, k := range n.keys {
			flattenMetadata(b, prefix+sep+k, mapSep, n.vals[i])
		}
	case sequenceNode:
		for i, v := range n.vals {
			flattenMetadata(b, prefix+listSep+strconv.Itoa(i), mapSep, v)
		}
	default:
		s, _ := n.v.(string)
		b.WriteString(prefix + "=" + strings.ReplaceAll(s, "\n", `\n`) + "\n")
	}
}
