package secret

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	sigsyaml "sigs.k8s.io/yaml"
)

// ConfigName is the sops configuration file found by walking up from the
// file being encrypted.
const ConfigName = ".sops.yaml"

// DefaultEncryptedRegex encrypts a Secret manifest's values, and nothing
// else, as the .sops.yaml rule `capstan bootstrap --generate-age-key`
// writes.
const DefaultEncryptedRegex = "^(data|stringData)$"

// Rule is the creation rule of a .sops.yaml that applies to a file.
type Rule struct {
	// Config is the .sops.yaml the rule is from.
	Config string
	// Recipients are the rule's age public keys.
	Recipients []string
	// EncryptedRegex is the rule's encrypted_regex, or "".
	EncryptedRegex string
}

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

// ErrNoConfig means no .sops.yaml was found above the file.
var ErrNoConfig = errors.New("no " + ConfigName + " found")

// FindConfig returns the .sops.yaml nearest above file (in its directory
// or a parent), or ErrNoConfig.
func FindConfig(file string) (string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", fmt.Errorf("finding %s: %w", ConfigName, err)
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, ConfigName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(dir) == dir {
			return "", ErrNoConfig
		}
	}
}

// FindRule finds the .sops.yaml above file and returns its rule for file;
// ErrNoConfig if there is no .sops.yaml.
func FindRule(file string) (Rule, error) {
	cfg, err := FindConfig(file)
	if err != nil {
		return Rule{}, err
	}
	data, err := os.ReadFile(cfg)
	if err != nil {
		return Rule{}, fmt.Errorf("reading %s: %w", cfg, err)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return Rule{}, fmt.Errorf("finding %s: %w", ConfigName, err)
	}
	r, err := MatchRule(data, filepath.Dir(cfg), abs)
	if err != nil {
		return Rule{}, fmt.Errorf("%s: %w", cfg, err)
	}
	r.Config = cfg
	return r, nil
}

// MatchRule returns the first creation rule of the .sops.yaml content
// data, found in configDir, whose path_regex matches file (absolute), as
// sops matches it: against the path relative to configDir when file is
// below it (else the absolute path), with forward slashes; a rule with
// no path_regex matches every file.
func MatchRule(data []byte, configDir, file string) (Rule, error) {
	var cf configFile
	if err := sigsyaml.Unmarshal(data, &cf); err != nil {
		return Rule{}, fmt.Errorf("parsing: %w", err)
	}
	rel := filepath.ToSlash(strings.TrimPrefix(file, configDir+string(filepath.Separator)))
	for i, cr := range cf.CreationRules {
		if cr.PathRegex != "" {
			re, err := regexp.Compile(cr.PathRegex)
			if err != nil {
				return Rule{}, fmt.Errorf("creation_rules[%d]: invalid path_regex: %w", i, err)
			}
			if !re.MatchString(rel) {
				continue
			}
		}
		return toRule(i, cr)
	}
	return Rule{}, fmt.Errorf("no creation_rules entry matches %s", rel)
}

// toRule checks that the rule is one this package can honour.
func toRule(i int, cr creationRule) (Rule, error) {
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
		return Rule{}, fmt.Errorf("creation_rules[%d] uses %s: capstan encrypts for age recipients with encrypted_regex only", i, strings.Join(unsupported, ", "))
	}
	recips, err := ageList(cr.Age)
	if err != nil {
		return Rule{}, fmt.Errorf("creation_rules[%d]: %w", i, err)
	}
	return Rule{Recipients: recips, EncryptedRegex: cr.EncryptedRegex}, nil
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
