package sops

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// dataKeySize is the size of the AES-256 data key of a SOPS file.
const dataKeySize = 32

// maxDataKeyRead bounds what is read from an age payload that should hold
// a 32-byte data key.
const maxDataKeyRead = 1024

// ParseIdentities parses age identities (AGE-SECRET-KEY-1…), one per line,
// with blank lines and # comments ignored, as age-keygen writes them and
// as Flux reads a Secret's .agekey values. Errors name the line, never its
// content.
func ParseIdentities(data []byte) ([]age.Identity, error) {
	var ids []age.Identity
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		id, err := parseIdentity(text)
		if err != nil {
			return nil, fmt.Errorf("line %d is not an age identity (AGE-SECRET-KEY-1…)", line)
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading age identities: line %d is too long", line+1)
	}
	if len(ids) == 0 {
		return nil, errors.New("no age identity (AGE-SECRET-KEY-1…) found")
	}
	return ids, nil
}

// parseIdentity parses an X25519 or a post-quantum hybrid identity.
func parseIdentity(s string) (age.Identity, error) {
	if strings.HasPrefix(s, "AGE-SECRET-KEY-PQ-1") {
		return age.ParseHybridIdentity(s)
	}
	return age.ParseX25519Identity(s)
}

// Recipient returns the public key (age1…) of an identity, or "" for a
// kind of identity this package does not parse.
func Recipient(id age.Identity) string {
	switch id := id.(type) {
	case *age.X25519Identity:
		return id.Recipient().String()
	case *age.HybridIdentity:
		return id.Recipient().String()
	}
	return ""
}

// dataKey opens the file's data key with the first stanza one of ids
// opens.
func (md *metadata) dataKey(ids []age.Identity) ([]byte, error) {
	if len(md.stanzas) == 0 {
		if len(md.otherKeys) > 0 {
			return nil, &Error{Line: md.line, Err: fmt.Errorf("%w: the file is encrypted for %s keys and no age recipient", ErrUnsupported, strings.Join(md.otherKeys, ", "))}
		}
		return nil, malformed(md.line, "the sops block has no age recipient")
	}
	if len(ids) == 0 {
		return nil, &Error{Line: md.line, Recipients: md.recipients(), Err: ErrNoIdentities}
	}
	for _, s := range md.stanzas {
		r, err := age.Decrypt(armor.NewReader(strings.NewReader(s.enc)), ids...)
		if err != nil {
			if _, ok := errors.AsType[*age.NoIdentityMatchError](err); ok {
				continue
			}
			return nil, malformed(md.line, "the data key encrypted for "+s.recipient+" is not a valid age file")
		}
		key, err := io.ReadAll(io.LimitReader(r, maxDataKeyRead))
		if err != nil || len(key) != dataKeySize {
			return nil, malformed(md.line, "the data key encrypted for "+s.recipient+" is not a 32-byte key")
		}
		return key, nil
	}
	return nil, &Error{Line: md.line, Recipients: md.recipients(), Err: ErrNoMatch}
}
