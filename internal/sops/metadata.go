package sops

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// metadata is what decrypting needs from a file's sops block.
type metadata struct {
	line         int
	stanzas      []stanza
	lastModified string // RFC 3339, as the MAC's additional data
	mac          string
	rules        rules
	macOnlyEnc   bool
	otherKeys    []string // key types present besides age
}

// stanza is one age recipient and the data key encrypted for it.
type stanza struct{ recipient, enc string }

// recipients returns the public keys the file is encrypted for.
func (m *metadata) recipients() []string {
	out := make([]string, len(m.stanzas))
	for i, s := range m.stanzas {
		out[i] = s.recipient
	}
	return out
}

// rules decide which values are encrypted, from the file's one
// encrypted/unencrypted suffix or regex.
type rules struct {
	unencSuffix, encSuffix string
	unencRe, encRe         *regexp.Regexp
}

// encrypted mirrors SOPS: the last rule given decides for a value at path.
func (r rules) encrypted(path []string) bool {
	enc := true
	if r.unencSuffix != "" && anyKey(path, func(k string) bool { return strings.HasSuffix(k, r.unencSuffix) }) {
		enc = false
	}
	if r.encSuffix != "" {
		enc = anyKey(path, func(k string) bool { return strings.HasSuffix(k, r.encSuffix) })
	}
	if r.unencRe != nil && anyKey(path, r.unencRe.MatchString) {
		enc = false
	}
	if r.encRe != nil {
		enc = anyKey(path, r.encRe.MatchString)
	}
	return enc
}

func anyKey(path []string, f func(string) bool) bool {
	for _, k := range path {
		if f(k) {
			return true
		}
	}
	return false
}

// parseMetadata reads the sops block m.
func parseMetadata(m *node) (*metadata, error) {
	if m == nil || m.kind != mappingNode {
		return nil, malformed(lineOf(m), "the sops block is not a mapping")
	}
	md := &metadata{line: m.line}
	lm, err := str(m, "lastmodified", true)
	if err != nil {
		return nil, err
	}
	t, perr := time.Parse(time.RFC3339, lm)
	if perr != nil {
		return nil, malformed(lineOf(m.get("lastmodified")), "sops.lastmodified is not an RFC 3339 time")
	}
	md.lastModified = t.Format(time.RFC3339)
	if md.mac, err = str(m, "mac", true); err != nil {
		return nil, err
	}
	if md.rules, err = parseRules(m); err != nil {
		return nil, err
	}
	if md.macOnlyEnc, err = boolean(m, "mac_only_encrypted"); err != nil {
		return nil, err
	}
	if err := md.readKeys(m); err != nil {
		return nil, err
	}
	return md, nil
}

// readKeys reads the age stanzas, from sops.age or from one key group.
func (md *metadata) readKeys(m *node) error {
	keys := m
	if groups := m.get("key_groups"); groups != nil {
		if groups.kind != sequenceNode {
			return malformed(groups.line, "sops.key_groups is not a list")
		}
		if len(groups.vals) > 1 {
			return &Error{Line: groups.line, Err: fmt.Errorf("%w: Shamir key groups (%d groups)", ErrUnsupported, len(groups.vals))}
		}
		if len(groups.vals) == 1 {
			keys = groups.vals[0]
		}
	}
	for _, other := range []string{"kms", "gcp_kms", "azure_kv", "hc_vault", "pgp", "hckms"} {
		if n := keys.get(other); n != nil && !(n.kind == scalarNode && n.v == nil) {
			md.otherKeys = append(md.otherKeys, other)
		}
	}
	age := keys.get("age")
	if age == nil || (age.kind == scalarNode && age.v == nil) {
		return nil
	}
	if age.kind != sequenceNode {
		return malformed(age.line, "sops.age is not a list")
	}
	for _, e := range age.vals {
		r, err := str(e, "recipient", true)
		if err != nil {
			return err
		}
		enc, err := str(e, "enc", true)
		if err != nil {
			return err
		}
		md.stanzas = append(md.stanzas, stanza{recipient: r, enc: enc})
	}
	return nil
}

func parseRules(m *node) (rules, error) {
	var r rules
	var err error
	set := 0
	if r.unencSuffix, err = str(m, "unencrypted_suffix", false); err != nil {
		return r, err
	}
	if r.encSuffix, err = str(m, "encrypted_suffix", false); err != nil {
		return r, err
	}
	for _, s := range []string{r.unencSuffix, r.encSuffix} {
		if s != "" {
			set++
		}
	}
	for _, re := range []struct {
		key string
		dst **regexp.Regexp
	}{{"unencrypted_regex", &r.unencRe}, {"encrypted_regex", &r.encRe}} {
		s, err := str(m, re.key, false)
		if err != nil || s == "" {
			if err != nil {
				return r, err
			}
			continue
		}
		set++
		c, cerr := regexp.Compile(s)
		if cerr != nil {
			return r, malformed(lineOf(m.get(re.key)), "sops."+re.key+" is not a valid regular expression")
		}
		*re.dst = c
	}
	for _, k := range []string{"unencrypted_comment_regex", "encrypted_comment_regex"} {
		if s, _ := str(m, k, false); s != "" {
			return r, &Error{Line: lineOf(m.get(k)), Err: fmt.Errorf("%w: sops.%s", ErrUnsupported, k)}
		}
	}
	if set > 1 {
		return r, malformed(m.line, "more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex and unencrypted_regex")
	}
	if set == 0 {
		r.unencSuffix = "_unencrypted"
	}
	return r, nil
}

// str returns the string at key of mapping m.
func str(m *node, key string, required bool) (string, error) {
	n := m.get(key)
	if n == nil || (n.kind == scalarNode && n.v == nil) {
		if required {
			return "", malformed(lineOf(m), "sops."+key+" is missing")
		}
		return "", nil
	}
	s, ok := n.v.(string)
	if n.kind != scalarNode || !ok {
		return "", malformed(n.line, "sops."+key+" is not a string")
	}
	return s, nil
}

// boolean returns the boolean at key of mapping m; dotenv files hold it
// as a string.
func boolean(m *node, key string) (bool, error) {
	n := m.get(key)
	if n == nil || n.v == nil {
		return false, nil
	}
	switch v := n.v.(type) {
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b, nil
		}
	}
	return false, malformed(n.line, "sops."+key+" is not a boolean")
}

func lineOf(n *node) int {
	if n == nil {
		return 0
	}
	return n.line
}
