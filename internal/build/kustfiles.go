package build

import (
	"errors"
	"io/fs"
	"strings"
)

// entryNoun names one entry of a kustomization field in messages.
func entryNoun(field string) string {
	switch field {
	case "resources":
		return "resource"
	case "bases":
		return "base"
	case "components":
		return "component"
	case "patches", "patchesStrategicMerge", "patchesJson6902":
		return "patch"
	case "replacements":
		return "replacement"
	}
	return field + " entry"
}

// fileRef is a file a kustomization names outside resources, bases and
// components: a patch, a replacement, a generator's file or env file.
type fileRef struct {
	what, entry, path string
}

// files checks that the files the kustomization at top names in its
// patches, replacements and generators exist, so that a missing one is a
// *MissingFileError with its line rather than kustomize's message.
// Entries of an unexpected shape are left to kustomize to refuse.
func (s *scanner) files(k value, top frame) error {
	for _, r := range fileRefs(k.v.(map[string]any)) {
		target, err := ref(k, r.what, r.path, top)
		if err != nil {
			return err
		}
		if _, err := confine(s.root, target); errors.Is(err, fs.ErrNotExist) {
			return s.missing(top.file, k.lineOf(r.entry), r.what, r.entry, target)
		}
	}
	return nil
}

// fileRefs lists the file entries of a kustomization m.
func fileRefs(m map[string]any) []fileRef {
	var out []fileRef
	for _, e := range stringsOf(m["patchesStrategicMerge"]) {
		if !strings.ContainsAny(e, "\n:{") {
			out = append(out, fileRef{what: "patch", entry: e, path: e})
		}
	}
	for _, field := range []string{"patches", "patchesJson6902", "replacements"} {
		for _, item := range mapsOf(m[field]) {
			if p, ok := item["path"].(string); ok && p != "" {
				out = append(out, fileRef{what: entryNoun(field), entry: p, path: p})
			}
		}
	}
	for _, gen := range []string{"configMapGenerator", "secretGenerator"} {
		for _, item := range mapsOf(m[gen]) {
			for _, f := range stringsOf(item["files"]) {
				_, p, found := strings.Cut(f, "=")
				if !found {
					p = f
				}
				out = append(out, fileRef{what: gen + " file", entry: f, path: p})
			}
			envs := stringsOf(item["envs"])
			if env, ok := item["env"].(string); ok && env != "" {
				envs = append(envs, env)
			}
			for _, e := range envs {
				out = append(out, fileRef{what: gen + " env file", entry: e, path: e})
			}
		}
	}
	return out
}

// stringsOf returns the string elements of a list value.
func stringsOf(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// mapsOf returns the map elements of a list value.
func mapsOf(v any) []map[string]any {
	list, _ := v.([]any)
	var out []map[string]any
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
