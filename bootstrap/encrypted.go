package bootstrap

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/capstan-gitops/capstan/internal/sops"
)

// maxScannedFile is the largest file checked for SOPS encryption, as the
// controller's build reads at most this much of one file.
const maxScannedFile = 8 << 20

// encryptedFile is a SOPS-encrypted file of the repository and the age
// recipients it is encrypted for.
type encryptedFile struct {
	path       string
	recipients []string
}

// checkEncrypted refuses, before anything is committed or installed, a
// repository whose dir holds SOPS-encrypted files that the age key (none
// if empty; generated says it is new) cannot open, naming the files and
// the recipients they need. It returns how many encrypted files there are.
func checkEncrypted(root, dir string, key []byte, generated bool) (int, error) {
	files, err := encryptedFiles(root, dir)
	if err != nil || len(files) == 0 {
		return 0, err
	}
	if len(key) == 0 {
		return 0, &hintError{msg: fmt.Sprintf("%s holds SOPS-encrypted files and no age key was given (--age-key-file): %s", dir, describeFiles(files)),
			hint: "pass --age-key-file FILE (or set CAPSTAN_AGE_KEY_FILE or SOPS_AGE_KEY_FILE) with a key of the recipients named; nothing was changed"}
	}
	ids, err := sops.ParseIdentities(key)
	if err != nil {
		return 0, fmt.Errorf("the age key file: %w", err)
	}
	have := make([]string, len(ids))
	for i, id := range ids {
		have[i] = sops.Recipient(id)
	}
	var unopened []encryptedFile
	for _, f := range files {
		if !slices.ContainsFunc(f.recipients, func(r string) bool { return slices.Contains(have, r) }) {
			unopened = append(unopened, f)
		}
	}
	switch {
	case len(unopened) > 0 && generated:
		return 0, &hintError{msg: fmt.Sprintf("%s holds SOPS-encrypted files that a new age key cannot open: %s", dir, describeFiles(unopened)),
			hint: "bootstrap with --age-key-file and a key of the recipients named, not --generate-age-key; nothing was changed"}
	case len(unopened) > 0:
		return 0, &hintError{msg: fmt.Sprintf("the age key (%s) opens none of these SOPS-encrypted files: %s", strings.Join(have, ", "), describeFiles(unopened)),
			hint: "pass --age-key-file with a key of the recipients named; nothing was changed"}
	}
	return len(files), nil
}

func describeFiles(files []encryptedFile) string {
	parts := make([]string, len(files))
	for i, f := range files {
		parts[i] = f.path + " (encrypted for " + strings.Join(f.recipients, ", ") + ")"
	}
	return strings.Join(parts, "; ")
}

// encryptedFiles lists the SOPS-encrypted files below dir of the checkout
// at root, skipping .git and hidden entries.
func encryptedFiles(root, dir string) ([]encryptedFile, error) {
	var out []encryptedFile
	base := filepath.Join(root, filepath.FromSlash(dir))
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if p != base && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > maxScannedFile {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f := sops.FormatOf(d.Name())
		if !sops.IsEncrypted(data, f) {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		recips, err := sops.Recipients(data, f)
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.ToSlash(rel), err)
		}
		out = append(out, encryptedFile{path: filepath.ToSlash(rel), recipients: recips})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking for SOPS-encrypted files: %w", err)
	}
	return out, nil
}
