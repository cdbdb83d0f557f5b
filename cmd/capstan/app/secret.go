package app

import (
	"errors"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/capstan-gitops/capstan/day2/secret"
)

func newSecretCommand() *cli.Command {
	return &cli.Command{
		Name:  "secret",
		Usage: "encrypt, decrypt and create SOPS-encrypted (age) Secret manifests",
		Subcommands: []*cli.Command{
			{
				Name:  "encrypt",
				Usage: "encrypt a Secret manifest's data and stringData for the age recipients of its .sops.yaml rule",
				Description: "Finds the .sops.yaml above FILE and its first creation rule whose path_regex matches, as sops does;\n" +
					"--age replaces the rule's recipients. Prints the encrypted file, or replaces FILE with --in-place.",
				ArgsUsage: "FILE",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "in-place", Aliases: []string{"i"}, Usage: "replace FILE (same mode, atomic rename) instead of printing"},
					&cli.StringSliceFlag{Name: "age", Usage: "age recipient (age1…) to encrypt for, instead of the .sops.yaml rule's (repeatable)"},
				},
				Action: func(c *cli.Context) error {
					file, err := oneFileArg(c)
					if err != nil {
						return err
					}
					opts := secret.EncryptOptions{Recipients: c.StringSlice("age")}
					if c.Bool("in-place") {
						return secret.EncryptInPlace(file, opts)
					}
					out, err := secret.Encrypt(file, opts)
					if err != nil {
						return err
					}
					_, err = c.App.Writer.Write(out)
					return err
				},
			},
			{
				Name:      "decrypt",
				Usage:     "print a SOPS-encrypted file's plaintext",
				ArgsUsage: "FILE",
				Flags:     []cli.Flag{ageKeyFileFlag("age identity file that opens FILE")},
				Action: func(c *cli.Context) error {
					file, err := oneFileArg(c)
					if err != nil {
						return err
					}
					ids, err := ageIdentities(c)
					if err != nil {
						return err
					}
					out, err := secret.Decrypt(file, ids)
					if err != nil {
						return err
					}
					_, err = c.App.Writer.Write(out)
					return err
				},
			},
			newSecretCreateCommand(),
		},
	}
}

func newSecretCreateCommand() *cli.Command {
	return &cli.Command{
		Name:  "create",
		Usage: "print a new Secret manifest (encrypted with --encrypt), as `kubectl create secret generic --dry-run=client -o yaml | sops --encrypt`",
		Description: "The plaintext is never written to disk. Without --age, --encrypt uses the recipients of the .sops.yaml\n" +
			"rule for NAME.yaml in the current directory.",
		ArgsUsage: "NAME",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "the Secret's namespace"},
			&cli.StringSliceFlag{Name: "from-literal", Usage: "KEY=VALUE (repeatable)"},
			&cli.StringSliceFlag{Name: "from-file", Usage: "KEY=PATH or PATH (repeatable)"},
			&cli.StringFlag{Name: "type", Usage: "the Secret's type, such as kubernetes.io/tls"},
			&cli.BoolFlag{Name: "encrypt", Usage: "encrypt data for age recipients (--age, or the .sops.yaml rule)"},
			&cli.StringSliceFlag{Name: "age", Usage: "age recipient (age1…) to encrypt for (repeatable)"},
		},
		Action: func(c *cli.Context) error {
			name, err := oneFileArg(c)
			if err != nil {
				return err
			}
			out, err := secret.Create(secret.CreateOptions{
				Name: name, Namespace: c.String("namespace"), Type: c.String("type"),
				Literals: c.StringSlice("from-literal"), Files: c.StringSlice("from-file"),
				Encrypt: c.Bool("encrypt"), Recipients: c.StringSlice("age"), ConfigPath: filepath.Clean(name + ".yaml"),
			})
			if err != nil {
				return err
			}
			_, err = c.App.Writer.Write(out)
			return err
		},
	}
}

// oneFileArg is the single positional argument.
func oneFileArg(c *cli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", errors.New("expected exactly one argument: " + c.Command.ArgsUsage)
	}
	return c.Args().First(), nil
}
