package main

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDifference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		a, b                 []string
		wantOnlyA, wantOnlyB []string
	}{
		{name: "equal", a: []string{"Namespace web", "Service web/web"}, b: []string{"Namespace web", "Service web/web"}},
		{name: "one lost", a: []string{"Namespace web", "Service web/web"}, b: []string{"Namespace web"}, wantOnlyA: []string{"Service web/web"}},
		{name: "one new", a: []string{"Namespace web"}, b: []string{"Namespace todo", "Namespace web"}, wantOnlyB: []string{"Namespace todo"}},
		{name: "both empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onlyA, onlyB := difference(tt.a, tt.b)
			if diff := cmp.Diff(tt.wantOnlyA, onlyA); diff != "" {
				t.Errorf("only in a (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantOnlyB, onlyB); diff != "" {
				t.Errorf("only in b (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIndentedPrintsWholeLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s := &story{w: &buf}
	w := s.output()
	for _, chunk := range []string{" ✓ Clus", "ter: created\n ✓ Pre", "flight\n", " ✗ Sync"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	want := "   │  ✓ Cluster: created\n   │  ✓ Preflight\n   │  ✗ Sync\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}
