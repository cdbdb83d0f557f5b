package build

import (
	"context"
	"errors"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func TestGuardedFS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		limits Limits
		cancel bool
		op     func(g *guardedFS) error
		want   error
	}{
		{name: "read", op: func(g *guardedFS) error { _, err := g.ReadFile("/a.yaml"); return err }},
		{name: "create", op: func(g *guardedFS) error { _, err := g.Create("/b"); return err }, want: errReadOnly},
		{name: "write", op: func(g *guardedFS) error { return g.WriteFile("/a.yaml", nil) }, want: errReadOnly},
		{name: "mkdir", op: func(g *guardedFS) error { return g.Mkdir("/d") }, want: errReadOnly},
		{name: "mkdir all", op: func(g *guardedFS) error { return g.MkdirAll("/d/e") }, want: errReadOnly},
		{name: "remove", op: func(g *guardedFS) error { return g.RemoveAll("/a.yaml") }, want: errReadOnly},
		{name: "canceled read", cancel: true, op: func(g *guardedFS) error { _, err := g.ReadFile("/a.yaml"); return err }, want: context.Canceled},
		{name: "canceled open", cancel: true, op: func(g *guardedFS) error { _, err := g.Open("/a.yaml"); return err }, want: context.Canceled},
		{name: "canceled list", cancel: true, op: func(g *guardedFS) error { _, err := g.ReadDir("/"); return err }, want: context.Canceled},
		{name: "too many reads", limits: Limits{MaxFiles: 1}, op: func(g *guardedFS) error {
			for range 5 {
				if _, err := g.ReadFile("/a.yaml"); err != nil {
					return err
				}
			}
			return nil
		}, want: ErrLimit},
		{name: "too many bytes", limits: Limits{MaxTotalBytes: 10}, op: func(g *guardedFS) error { _, err := g.ReadFile("/a.yaml"); return err }, want: ErrLimit},
		{name: "alias bomb", op: func(g *guardedFS) error { _, err := g.ReadFile("/bomb.yaml"); return err }, want: errAliasBomb},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fsys := filesys.MakeFsInMemory()
			for name, data := range map[string]string{"/a.yaml": cm("a"), "/bomb.yaml": aliasBomb(8)} {
				if err := fsys.WriteFile(name, []byte(data)); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			g := newGuardedFS(ctx, fsys, tt.limits.withDefaults(), nil)
			err := tt.op(g)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.cancel && IsTerminal(err) {
				t.Errorf("IsTerminal(%v) = true for a canceled context", err)
			}
		})
	}
}
