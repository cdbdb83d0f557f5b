package build

import (
	yaml "go.yaml.in/yaml/v3"
)

// plugins checks the generators, transformers or validators of a
// kustomization. Kustomize runs only its builtin plugins here (external
// plugins, exec and container functions are disabled), but builtins load
// the files their configuration names, over HTTP for a URL. So every
// configuration, inline or in a file, is scanned for URLs, and directory
// entries, whose output kustomize transformations could turn into URLs,
// are refused.
func (s *scanner) plugins(k value, field string, stack []frame) error {
	top := stack[len(stack)-1]
	entries, err := stringList(k, field, top.file)
	if err != nil {
		return err
	}
	for _, entry := range entries {
		if isGitRef(entry) {
			return errorf(top.file, k.lineOf(entry), "%s entry %q: %w", field, entry, ErrRemote)
		}
		file, configs, err := s.pluginConfigs(k, field, entry, top)
		if err != nil {
			return err
		}
		for _, c := range configs {
			if url, ok := findRemote(c.v); ok {
				return errorf(file, c.lineOf(url), "%s: %q: %w", field, url, ErrRemote)
			}
		}
	}
	return nil
}

// pluginConfigs returns the configurations of one entry, and the file
// they are in: the kustomization for an inline configuration, else the
// file the entry names.
func (s *scanner) pluginConfigs(k value, field, entry string, top frame) (string, []value, error) {
	if configs, err := decodeValues(top.file+".yaml", []byte(entry)); err == nil && len(configs) > 0 {
		base := k.lineOf(entry) - 1
		if n := findScalar(k.node, entry); n != nil && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			base++ // a block scalar's content starts on the next line
		}
		for i := range configs {
			configs[i].base, configs[i].line = base, base+configs[i].line
		}
		return top.file, configs, nil
	}
	target, err := ref(k, field, entry, top)
	if err != nil {
		return "", nil, err
	}
	isDir, err := s.isDir(target)
	if err != nil {
		return "", nil, errorf(top.file, k.lineOf(entry), "%s entry %q: %w", field, entry, err)
	}
	if isDir {
		return "", nil, errorf(top.file, k.lineOf(entry), "%s entry %q is a directory, which is %w: use a file or an inline configuration", field, entry, ErrUnsupported)
	}
	data, err := s.read(target)
	if err != nil {
		return "", nil, err
	}
	configs, err := decodeValues(target, data)
	return target, configs, err
}
