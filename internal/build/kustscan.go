package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"strings"
)

// maxKustomizeDepth bounds the nesting of kustomizations (overlay → base).
const maxKustomizeDepth = 100

// scanner walks the graph of kustomizations reachable from a directory
// before kustomize runs, and refuses what kustomize must not be given:
// remote bases and files (kustomize would run git or fetch over HTTP),
// absolute paths, references leaving the checkout, cycles, directories as
// generators or transformers (their output could be shaped into a remote
// reference), helm and custom OpenAPI schemas (global to the process).
type scanner struct {
	ctx    context.Context
	root   *os.Root
	budget *budget
	done   map[string]bool
	// dirs lists the kustomization directories, by the path kustomize
	// will see (joined without resolving symlinks).
	dirs []string
	// file is the kustomization file of the first directory scanned.
	file string
	// charts are the helmCharts entries to render, in scan order, and
	// chartNS the release namespace of each directory that has some.
	charts  []chartJob
	chartNS map[string]string
}

// frame is a kustomization on the path from the one being built.
type frame struct {
	dir, real, file string
	// namespace is the kustomization's namespace, else the nearest
	// including one's: the release namespace of a chart that names none.
	namespace string
}

func newScanner(ctx context.Context, r *os.Root, limits Limits) *scanner {
	return &scanner{ctx: ctx, root: r, budget: &budget{limits: limits}, done: make(map[string]bool), chartNS: make(map[string]string)}
}

// scan checks the kustomization in dir and, depth first, those it uses.
func (s *scanner) scan(dir string, stack []frame) error {
	if err := interrupted(s.ctx); err != nil {
		return err
	}
	real, err := confine(s.root, dir)
	if err != nil {
		return err
	}
	for i, f := range stack {
		if f.real == real {
			return errorf(stack[len(stack)-1].file, 0, "kustomization cycle: %s", cycle(stack[i:], dir))
		}
	}
	if s.done[dir] {
		return s.sameNamespace(dir, stack)
	}
	if len(stack) >= maxKustomizeDepth {
		return errorf(dir, 0, "kustomizations nest more than %d deep: %w", maxKustomizeDepth, ErrLimit)
	}
	file, k, err := s.load(dir, real)
	if err != nil {
		return err
	}
	if err := s.budget.entry(file); err != nil {
		return err
	}
	if len(stack) == 0 {
		s.file = file
	}
	ns, _ := k.v.(map[string]any)["namespace"].(string)
	inherits := ns == ""
	if inherits && len(stack) > 0 {
		ns = stack[len(stack)-1].namespace
	}
	stack = append(stack[:len(stack):len(stack)], frame{dir: dir, real: real, file: file, namespace: ns})
	for _, field := range []string{"resources", "bases", "components"} {
		if err := s.bases(k, field, stack); err != nil {
			return err
		}
	}
	if err := s.files(k, stack[len(stack)-1]); err != nil {
		return err
	}
	jobs, err := s.helmCharts(k, stack[len(stack)-1])
	if err != nil {
		return err
	}
	s.charts = append(s.charts, jobs...)
	if len(jobs) > 0 && inherits {
		s.chartNS[dir] = ns
	}
	for _, field := range []string{"generators", "transformers", "validators"} {
		if err := s.plugins(k, field, stack); err != nil {
			return err
		}
	}
	s.done[dir] = true
	s.dirs = append(s.dirs, dir)
	return nil
}

// sameNamespace refuses a kustomization with charts that inherits its
// namespace, reached a second time with another one: its rendered objects would differ by
// includer, and one in-memory copy serves both.
func (s *scanner) sameNamespace(dir string, stack []frame) error {
	ns, ok := s.chartNS[dir]
	if !ok || len(stack) == 0 {
		return nil
	}
	top := stack[len(stack)-1]
	if top.namespace != ns {
		return errorf(top.file, 0, "%s is included with namespaces %q and %q: its helmCharts would render twice, which is %w",
			dir, ns, top.namespace, ErrUnsupported)
	}
	return nil
}

func cycle(stack []frame, back string) string {
	var b strings.Builder
	for _, f := range stack {
		b.WriteString(f.dir + " -> ")
	}
	return b.String() + back
}

// load reads, decodes and checks the kustomization file in dir.
func (s *scanner) load(dir, real string) (string, value, error) {
	var found []string
	for _, name := range kustomizationNames() {
		if _, err := s.root.Lstat(path.Join(real, name)); err == nil {
			found = append(found, name)
		}
	}
	switch len(found) {
	case 0:
		return "", value{}, errorf(dir, 0, "no kustomization file in this directory")
	case 1:
	default:
		return "", value{}, errorf(dir, 0, "more than one kustomization file: %s", strings.Join(found, ", "))
	}
	file := path.Join(dir, found[0])
	data, err := s.read(file)
	if err != nil {
		return "", value{}, err
	}
	values, err := decodeValues(file+".yaml", data)
	if err != nil {
		return "", value{}, retitle(err, file)
	}
	k := value{v: map[string]any{}, line: 1}
	if len(values) > 1 {
		return "", value{}, errorf(file, values[1].line, "a kustomization is a single document")
	}
	if len(values) == 1 {
		k = values[0]
	}
	return file, k, checkKustomization(file, k)
}

// checkKustomization refuses features that reach outside the sandbox.
func checkKustomization(file string, k value) error {
	m := k.v.(map[string]any)
	if _, ok := m["helmChartInflationGenerator"]; ok {
		return errorf(file, k.lineOf("helmChartInflationGenerator"), "helmChartInflationGenerator is %w: use helmCharts", ErrUnsupported)
	}
	if _, ok := m["openapi"]; ok {
		return errorf(file, k.lineOf("openapi"), "openapi: custom schemas are %w (kustomize keeps them process-wide)", ErrUnsupported)
	}
	// A helmCharts entry's repo is where the chart was pulled from (the
	// build never fetches it), and its inline values are values, not files.
	// Its files are checked by helmCharts.
	rest := maps.Clone(m)
	delete(rest, "helmCharts")
	if url, ok := findRemote(rest); ok {
		return errorf(file, k.lineOf(url), "%q: %w", url, ErrRemote)
	}
	return nil
}

// read reads a file of the checkout by the path kustomize will see.
func (s *scanner) read(file string) ([]byte, error) {
	real, err := confine(s.root, file)
	if err != nil {
		return nil, err
	}
	fi, err := s.root.Lstat(real)
	if err != nil {
		return nil, statError(file, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errorf(file, 0, "not a regular file")
	}
	return readFile(s.root, s.budget, file, real, fi.Size())
}

// retitle renames the file of an *Error (decoding used a .yaml name to
// select YAML for "Kustomization").
func retitle(err error, file string) error {
	if e, ok := errors.AsType[*Error](err); ok {
		return &Error{File: file, Line: e.Line, Err: e.Err}
	}
	return err
}

// ref checks one path entry of field in the kustomization at the top of
// stack and returns the path kustomize will see.
func ref(k value, field, entry string, top frame) (string, error) {
	line := k.lineOf(entry)
	switch {
	case entry == "":
		return "", errorf(top.file, line, "%s: empty entry", field)
	case isRemoteRef(entry):
		return "", errorf(top.file, line, "%s entry %q: %w", field, entry, ErrRemote)
	case path.IsAbs(entry):
		return "", errorf(top.file, line, "%s entry %q: absolute paths are %w", field, entry, ErrOutsideRoot)
	}
	target := path.Join(top.dir, entry)
	if target == ".." || strings.HasPrefix(target, "../") {
		return "", errorf(top.file, line, "%s entry %q is %w", field, entry, ErrOutsideRoot)
	}
	return target, nil
}

// bases checks the resources, bases or components of a kustomization and
// scans the kustomizations among them.
func (s *scanner) bases(k value, field string, stack []frame) error {
	top := stack[len(stack)-1]
	entries, err := stringList(k, field, top.file)
	if err != nil {
		return err
	}
	for _, entry := range entries {
		target, err := ref(k, field, entry, top)
		if err != nil {
			return err
		}
		isDir, err := s.isDir(target)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return s.missing(top.file, k.lineOf(entry), entryNoun(field), entry, target)
			}
			return errorf(top.file, k.lineOf(entry), "%s entry %q: %w", field, entry, err)
		}
		switch {
		case isDir:
			if err := s.scan(target, stack); err != nil {
				return err
			}
		case !within(target, top.dir):
			return errorf(top.file, k.lineOf(entry),
				"%s entry %q is a file outside %s: kustomize loads files only from the kustomization's directory", field, entry, top.dir)
		}
	}
	return nil
}

func (s *scanner) isDir(target string) (bool, error) {
	real, err := confine(s.root, target)
	if err != nil {
		return false, unwrapped(err)
	}
	fi, err := s.root.Lstat(real)
	if err != nil {
		return false, unwrapped(statError(target, err))
	}
	return fi.IsDir(), nil
}

// unwrapped returns the cause of an *Error, for re-attribution.
func unwrapped(err error) error {
	if e, ok := errors.AsType[*Error](err); ok {
		if e.File != "" {
			return fmt.Errorf("%s: %w", e.File, e.Err)
		}
		return e.Err
	}
	return err
}

func stringList(k value, field, file string) ([]string, error) {
	raw, ok := k.v.(map[string]any)[field]
	if !ok || raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, errorf(file, k.lineOf(field), "%s is %s, not a list", field, describe(raw))
	}
	out := make([]string, len(list))
	for i, e := range list {
		if out[i], ok = e.(string); !ok {
			return nil, errorf(file, k.lineOf(field), "%s[%d] is %s, not a string", field, i, describe(e))
		}
	}
	return out, nil
}
