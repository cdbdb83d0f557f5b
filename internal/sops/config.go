package sops

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	sigsyaml "sigs.k8s.io/yaml"
)

// ConfigName is the sops configuration file (.sops.yaml) whose creation
// rules say for whom a new file is encrypted.
const ConfigName = ".sops.yaml"

// CreationRule is the creation rule of a .sops.yaml that applies to a
// file, in the part this package honours.
type CreationRule struct {
	// Index is the rule's position in creation_rules.
	Index int
	// Recipients are the rule's age public keys.
	Recipients []string
	// EncryptedRegex is the rule's encrypted_regex, or "".
	EncryptedRegex string
}

// ErrNoCreationRule means no creation rule of a .sops.yaml matches a file.
var ErrNoCreationRule = errors.New("no creation_rules entry matches")

// creationRule is one entry of creation_rules; the fields this package
// cannot honour are read to refuse them rather than to ignore them.
type creationRule struct {
	PathRegex         string `json:"path_regex"`
	Age               any    `json:"age"`
	EncryptedRegex    string `json:"encrypted_regex"`
	UnencryptedRegex  string `json:"unencrypted_regex"`
	EncryptedSuffix   string `json:"encrypted_suffix"`
	UnencryptedSuffix string `json:"unencrypted_suffix"`
	KeyGroups         any    `json:"key_groups"`
	PGP               any    `json:"pgp"`
	KMS               any    `json:"kms"`
	GCPKMS            any    `json:"gcp_kms"`
	AzureKV           any    `json:"azure_keyvault"`
	Vault             any    `json:"hc_vault_transit_uri"`
}

type configFile struct {
	CreationRules []creationRule `json:"creation_rules"`
}

// MatchCreationRule returns the first creation rule of the .sops.yaml
// content config whose path_regex matches rel, as sops matches it: rel is
// the file's path relative to the .sops.yaml's directory (or its absolute
// path when outside it), with forward slashes; a rule with no path_regex
// matches every file. A matching rule that uses what this package cannot
// honour (other key types, key groups, other regexes) is refused.
func MatchCreationRule(config []byte, rel string) (CreationRule, error) {
	var cf configFile
	if err := sigsyaml.Unmarshal(config, &cf); err != nil {
		return CreationRule{}, fmt.Errorf("parsing: %w", err)
	}
	for i, cr := range cf.CreationRules {
		if cr.PathRegex != "" {
			re, err := regexp.Compile(cr.PathRegex)
			if err != nil {
				return CreationRule{}, fmt.Errorf("creation_rules[%d]: invalid path_regex: %w", i, err)
			}
			if !re.MatchString(rel) {
				continue
			}
		}
		return toRule(i, cr)
	}
	return CreationRule{}, fmt.Errorf("%w %s", ErrNoCreationRule, rel)
}

// toRule checks that the rule is one this package can honour.
func toRule(i int, cr creationRule) (CreationRule, error) {
	var unsupported []string
	for name, v := range map[string]bool{
		"unencrypted_regex": cr.UnencryptedRegex != "", "encrypted_suffix": cr.EncryptedSuffix != "",
		"unencrypted_suffix": cr.UnencryptedSuffix != "" && cr.UnencryptedSuffix != "_unencrypted",
		"key_groups":         cr.KeyGroups != nil, "pgp": cr.PGP != nil, "kms": cr.KMS != nil, "gcp_kms": cr.GCPKMS != nil,
		"azure_keyvault": cr.AzureKV != nil, "hc_vault_transit_uri": cr.Vault != nil,
	} {
		if v {
			unsupported = append(unsupported, name)
		}
	}
	if len(unsupported) > 0 {
		slices.Sort(unsupported)
		return CreationRule{}, fmt.Errorf("creation_rules[%d] uses %s: capstan encrypts for age recipients with encrypted_regex only", i, strings.Join(unsupported, ", "))
	}
	recips, err := ageList(cr.Age)
	if err != nil {
		return CreationRule{}, fmt.Errorf("creation_rules[%d]: %w", i, err)
	}
	return CreationRule{Index: i, Recipients: recips, EncryptedRegex: cr.EncryptedRegex}, nil
}

// ageList reads the age field: a comma-separated string, or a list.
func ageList(v any) ([]string, error) {
	var parts []string
	switch v := v.(type) {
	case nil:
	case string:
		parts = strings.Split(v, ",")
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("age: not a string")
			}
			parts = append(parts, strings.Split(s, ",")...)
		}
	default:
		return nil, errors.New("age: neither a string nor a list")
	}
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}
