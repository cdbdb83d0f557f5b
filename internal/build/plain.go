package build

import (
	"context"
	"os"
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
)

// buildPlain decodes every manifest file under dir (a real path from
// confine), skipping hidden files and directories. A subdirectory with a
// kustomization is built by kustomize as one unit, as Flux does, and not
// walked further.
func buildPlain(ctx context.Context, r *os.Root, dir string, b *budget) ([]item, error) {
	var items []item
	w := &walker{
		ctx:    ctx,
		root:   r,
		budget: b,
		skip:   isHidden,
		enter: func(_, real string) (bool, error) {
			if real == dir {
				return false, nil
			}
			ok, err := hasKustomization(r, real)
			if err != nil || !ok {
				return false, err
			}
			its, err := kustomizeItems(ctx, r, real, b)
			items = append(items, its...)
			return true, err
		},
		want: func(file string) (bool, error) {
			return isManifest(file) && !isKustomizationName(path.Base(file)), nil
		},
		onFile: func(file string, data []byte) error {
			data, err := decrypt(file, data, b.ids)
			if err != nil {
				return err
			}
			its, err := decodeFile(file, data)
			if err != nil {
				return err
			}
			if err := b.object(file, len(its)); err != nil {
				return err
			}
			items = append(items, its...)
			return nil
		},
	}
	if err := w.walk(dir, dir); err != nil {
		return nil, err
	}
	return finish(items)
}

func isHidden(name string) bool { return strings.HasPrefix(name, ".") }

// isManifest reports whether file is decoded in a plain directory.
func isManifest(file string) bool {
	switch strings.ToLower(path.Ext(file)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func isKustomizationName(name string) bool {
	return slices.Contains(kustomizationNames(), name)
}

// kustomizationNames returns the names kustomize looks for, in its order.
func kustomizationNames() []string { return konfig.RecognizedKustomizationFileNames() }
