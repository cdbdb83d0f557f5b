package sops

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EncryptedFile is a SOPS-encrypted file found below a directory.
type EncryptedFile struct {
	// Path is the file's slash-separated path relative to the scanned root.
	Path string
	// Recipients are the age public keys it is encrypted for.
	Recipients []string
	// Err is why its sops block could not be read (an [*Error]); nil when
	// Recipients are known.
	Err error
}

// FindEncrypted lists the SOPS-encrypted files below dir of the tree at
// root, chosen by extension as sops chooses the format, skipping hidden
// entries (.git, .sops.yaml) and files larger than maxSize. A missing dir
// holds none.
func FindEncrypted(root, dir string, maxSize int64) ([]EncryptedFile, error) {
	var out []EncryptedFile
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
		if err != nil || info.Size() > maxSize {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f := FormatOf(d.Name())
		if !IsEncrypted(data, f) {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		recips, err := Recipients(data, f)
		out = append(out, EncryptedFile{Path: filepath.ToSlash(rel), Recipients: recips, Err: err})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking for SOPS-encrypted files: %w", err)
	}
	return out, nil
}
