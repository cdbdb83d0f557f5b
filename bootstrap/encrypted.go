package bootstrap

import (
	"fmt"
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
// at root, skipping .git and hidden entries; a file whose sops block
// cannot be read fails the scan.
func encryptedFiles(root, dir string) ([]encryptedFile, error) {
	found, err := sops.FindEncrypted(root, dir, maxScannedFile)
	if err != nil {
		return nil, err
	}
	out := make([]encryptedFile, 0, len(found))
	for _, f := range found {
		if f.Err != nil {
			return nil, fmt.Errorf("looking for SOPS-encrypted files: %s: %w", f.Path, f.Err)
		}
		out = append(out, encryptedFile{path: f.Path, recipients: f.Recipients})
	}
	return out, nil
}
