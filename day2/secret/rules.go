package secret

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/capstan-gitops/capstan/internal/sops"
)

// ConfigName is the sops configuration file found by walking up from the
// file being encrypted.
const ConfigName = sops.ConfigName

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
	rel := filepath.ToSlash(strings.TrimPrefix(file, configDir+string(filepath.Separator)))
	r, err := sops.MatchCreationRule(data, rel)
	if err != nil {
		return Rule{}, err
	}
	return Rule{Recipients: r.Recipients, EncryptedRegex: r.EncryptedRegex}, nil
}
