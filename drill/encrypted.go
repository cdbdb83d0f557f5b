package drill

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"filippo.io/age"

	"github.com/capstan-gitops/capstan/internal/sops"
)

// maxSealedFile is the largest file checked for SOPS encryption, as the
// controller's build reads at most this much of one file.
const maxSealedFile = 8 << 20

// sealedFile is a SOPS-encrypted file of the clone and the Sync whose path
// holds it.
type sealedFile struct {
	sops.EncryptedFile
	// Sync is namespace/name of the Sync with the deepest path holding it.
	Sync string
}

// findSealed lists the SOPS-encrypted files under the paths of the Syncs
// that read the clone at root, each with the Sync whose path is closest to
// it.
func findSealed(root string, tree []staticSync) ([]sealedFile, error) {
	owners := slices.DeleteFunc(slices.Clone(tree), func(s staticSync) bool { return s.Other })
	slices.SortStableFunc(owners, func(a, b staticSync) int {
		return cmp.Compare(len(pathOrRoot(b.Path)), len(pathOrRoot(a.Path)))
	})
	var out []sealedFile
	seen := map[string]bool{}
	for _, s := range owners {
		files, err := sops.FindEncrypted(root, pathOrRoot(s.Path), maxSealedFile)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if !seen[f.Path] {
				seen[f.Path] = true
				out = append(out, sealedFile{EncryptedFile: f, Sync: s.Key()})
			}
		}
	}
	slices.SortFunc(out, func(a, b sealedFile) int { return cmp.Compare(a.Path, b.Path) })
	return out, nil
}

// sealedProblems returns a problem for each encrypted file that none of
// ids opens (all of them when there are none): a rebuild with that key
// would fail the Sync reading it. Only public keys are named.
func sealedProblems(files []sealedFile, ids []age.Identity) []Problem {
	have := make([]string, 0, len(ids))
	for _, id := range ids {
		have = append(have, sops.Recipient(id))
	}
	var out []Problem
	for _, f := range files {
		p := Problem{Kind: ProblemUndecryptable, Object: syncObject(splitKey(f.Sync)), File: f.Path, Sync: f.Sync}
		switch {
		case f.Err != nil:
			p.Message = fmt.Sprintf("its sops block cannot be read: %v; encrypt it again with sops or `capstan secret encrypt`", f.Err)
		case slices.ContainsFunc(f.Recipients, func(r string) bool { return slices.Contains(have, r) }):
			continue
		case len(ids) == 0:
			p.Message = fmt.Sprintf("SOPS-encrypted for %s and the drill was given no age key: a rebuild needs the key of one of these recipients; pass it with --age-key-file to check your key backup",
				strings.Join(f.Recipients, ", "))
		default:
			p.Message = fmt.Sprintf("SOPS-encrypted for %s, and the age key given (%s) opens none of them: a rebuild with this key cannot apply it; find the key of one of these recipients, or encrypt the file again for yours",
				strings.Join(f.Recipients, ", "), strings.Join(have, ", "))
		}
		out = append(out, p)
	}
	return out
}

// splitKey splits namespace/name.
func splitKey(key string) (namespace, name string) {
	namespace, name, _ = strings.Cut(key, "/")
	return namespace, name
}
