package build

import (
	"context"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/capstan-gitops/capstan/internal/helm"
)

// buildKustomize builds the kustomization in dir (a real path from
// confine): it checks the kustomizations it reaches, copies their
// directories into memory, renders their helmCharts there, and runs
// kustomize with plugins, exec, helm and remote loading disabled.
func buildKustomize(ctx context.Context, r *os.Root, dir string, b *budget) ([]item, error) {
	items, err := kustomizeItems(ctx, r, dir, b)
	if err != nil {
		return nil, err
	}
	return finish(items)
}

// kustomizeItems builds the kustomization in dir into items, unsorted.
func kustomizeItems(ctx context.Context, r *os.Root, dir string, b *budget) ([]item, error) {
	s := newScanner(ctx, r, b.limits)
	if err := s.scan(dir, nil); err != nil {
		return nil, err
	}
	fsys := filesys.MakeFsInMemory()
	for _, d := range topDirs(s.dirs) {
		if err := copyDir(ctx, r, b, fsys, d); err != nil {
			return nil, err
		}
	}
	if len(s.charts) > 0 {
		r := helm.Renderer{Limits: helm.Limits{Timeout: b.limits.ChartTimeout, MaxBytes: b.limits.MaxChartBytes}}
		cluster, err := b.capabilities(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the cluster's capabilities to render helmCharts: %w", err)
		}
		if err := renderCharts(ctx, fsys, s.charts, r, cluster); err != nil {
			return nil, err
		}
	}
	m, err := runKustomize(ctx, fsys, dir, s.file, b)
	if err != nil {
		return nil, err
	}
	return outputItems(s.file, m, b)
}

// topDirs returns dirs without those inside another of them.
func topDirs(dirs []string) []string {
	sorted := slices.Clone(dirs)
	slices.Sort(sorted)
	var out []string
	for _, d := range sorted {
		if len(out) > 0 && within(d, out[len(out)-1]) {
			continue
		}
		out = append(out, d)
	}
	return out
}

// within reports whether the slash path p is dir or below it.
func within(p, dir string) bool {
	return dir == "." || p == dir || strings.HasPrefix(p, dir+"/")
}

// copyDir copies the tree at dir (as kustomize sees it) into fsys,
// skipping .git.
func copyDir(ctx context.Context, r *os.Root, b *budget, fsys filesys.FileSystem, dir string) error {
	real, err := confine(r, dir)
	if err != nil {
		return err
	}
	w := &walker{
		ctx:    ctx,
		root:   r,
		budget: b,
		skip:   func(name string) bool { return name == ".git" },
		want:   func(string) (bool, error) { return true, nil },
		onDir: func(d string) error {
			return fsys.MkdirAll(path.Join("/", d))
		},
		onFile: func(f string, data []byte) error {
			return fsys.WriteFile(path.Join("/", f), data)
		},
	}
	return w.walk(dir, real)
}

// runKustomize runs kustomize on dir in fsys. Panics become errors.
func runKustomize(ctx context.Context, fsys filesys.FileSystem, dir, file string, b *budget) (m resmap.ResMap, err error) {
	g := newGuardedFS(ctx, fsys, b.limits, b.ids)
	opts := &krusty.Options{
		Reorder:          krusty.ReorderOptionUnspecified,
		LoadRestrictions: types.LoadRestrictionsRootOnly,
		PluginConfig:     types.DisabledPluginConfig(),
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, errorf(file, 0, "kustomize failed: %v", r)
		}
		if g.err != nil {
			m, err = nil, g.err
		}
	}()
	m, err = krusty.MakeKustomizer(opts).Run(g, path.Join("/", dir))
	if err != nil {
		return nil, errorf(file, 0, "kustomize: %w", err)
	}
	return m, nil
}

// outputItems converts kustomize's output to validated objects, capping
// its size.
func outputItems(file string, m resmap.ResMap, b *budget) ([]item, error) {
	maxBytes := amplification * b.limits.MaxTotalBytes
	var total int64
	var items []item
	for _, res := range m.Resources() {
		data, err := res.MarshalJSON()
		if err != nil {
			return nil, errorf(file, 0, "kustomize output %s: %w", res.CurId(), err)
		}
		if total += int64(len(data)); total > maxBytes {
			return nil, errorf(file, 0, "kustomize output exceeds %d bytes: %w", maxBytes, ErrLimit)
		}
		var v any
		if err := utiljson.Unmarshal(data, &v); err != nil {
			return nil, errorf(file, 0, "kustomize output %s: %w", res.CurId(), err)
		}
		its, err := objectsOf(file, value{v: v, node: res.YNode()})
		if err != nil {
			return nil, errorf(file, 0, "kustomize output %s: %w", res.CurId(), unwrapped(err))
		}
		if err := b.object(file, len(its)); err != nil {
			return nil, err
		}
		items = append(items, its...)
	}
	return items, nil
}
