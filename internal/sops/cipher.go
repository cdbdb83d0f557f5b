package sops

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// errValue is a value that is not a valid SOPS ciphertext or does not
// authenticate; the caller names where it is.
var errValue = errors.New("not a valid encrypted value")

// decryptValue opens one ENC[AES256_GCM,...] value with the data key,
// authenticated with additional data aad (the value's path). An empty
// string stays empty, as SOPS leaves it unencrypted.
func decryptValue(s string, key []byte, aad string) (any, error) {
	if s == "" {
		return "", nil
	}
	plain, typ, err := openValue(s, key, aad)
	if err != nil {
		return nil, err
	}
	return typed(plain, typ)
}

// openValue opens one ENC[AES256_GCM,...] value and returns its plaintext
// and the type SOPS recorded for it.
func openValue(s string, key []byte, aad string) ([]byte, string, error) {
	data, iv, tag, typ, ok := parseValue(s)
	if !ok || len(iv) == 0 {
		return nil, "", errValue
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, "", errValue
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		return nil, "", errValue
	}
	plain, err := gcm.Open(nil, iv, append(data, tag...), []byte(aad))
	if err != nil {
		return nil, "", errValue
	}
	return plain, typ, nil
}

// typed converts a decrypted value to the type SOPS recorded for it.
func typed(plain []byte, typ string) (any, error) {
	switch typ {
	case "str":
		return string(plain), nil
	case "bytes":
		return plain, nil
	case "int":
		i, err := strconv.Atoi(string(plain))
		if err != nil {
			return nil, errValue
		}
		return i, nil
	case "float":
		f, err := strconv.ParseFloat(string(plain), 64)
		if err != nil {
			return nil, errValue
		}
		return f, nil
	case "bool":
		b, err := strconv.ParseBool(string(plain))
		if err != nil {
			return nil, errValue
		}
		return b, nil
	case "time":
		var t time.Time
		if err := t.UnmarshalText(plain); err != nil {
			return nil, errValue
		}
		return t, nil
	}
	return nil, errValue
}

// parseValue splits ENC[AES256_GCM,data:…,iv:…,tag:…,type:…].
func parseValue(s string) (data, iv, tag []byte, typ string, ok bool) {
	rest, found := strings.CutPrefix(s, "ENC[AES256_GCM,data:")
	if !found {
		return nil, nil, nil, "", false
	}
	rest, found = strings.CutSuffix(rest, "]")
	if !found {
		return nil, nil, nil, "", false
	}
	d, rest, ok1 := strings.Cut(rest, ",iv:")
	i, rest, ok2 := strings.Cut(rest, ",tag:")
	t, typ, ok3 := strings.Cut(rest, ",type:")
	if !ok1 || !ok2 || !ok3 {
		return nil, nil, nil, "", false
	}
	var err1, err2, err3 error
	data, err1 = base64.StdEncoding.DecodeString(d)
	iv, err2 = base64.StdEncoding.DecodeString(i)
	tag, err3 = base64.StdEncoding.DecodeString(t)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, nil, nil, "", false
	}
	return data, iv, tag, typ, true
}
