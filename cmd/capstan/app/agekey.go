package app

import (
	"fmt"
	"os"

	"filippo.io/age"
	"github.com/urfave/cli/v2"

	"github.com/capstan-gitops/capstan/internal/sops"
)

// ageKeyFileFlag is --age-key-file, also read from CAPSTAN_AGE_KEY_FILE and,
// as sops reads it, SOPS_AGE_KEY_FILE.
func ageKeyFileFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "age-key-file", Usage: usage, EnvVars: []string{"CAPSTAN_AGE_KEY_FILE", "SOPS_AGE_KEY_FILE"}}
}

// ageKeyFile reads the file of --age-key-file; nil without it.
func ageKeyFile(c *cli.Context) ([]byte, error) {
	f := c.String("age-key-file")
	if f == "" {
		return nil, nil
	}
	data, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("reading --age-key-file: %w", err)
	}
	return data, nil
}

// ageIdentities reads the identities of --age-key-file; none without it.
func ageIdentities(c *cli.Context) ([]age.Identity, error) {
	data, err := ageKeyFile(c)
	if data == nil || err != nil {
		return nil, err
	}
	ids, err := sops.ParseIdentities(data)
	if err != nil {
		return nil, fmt.Errorf("--age-key-file %s: %w", c.String("age-key-file"), err)
	}
	return ids, nil
}
