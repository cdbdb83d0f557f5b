package helm

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

// largeChart returns a chart of n Deployment templates sharing helpers,
// the shape of a large add-on chart.
func largeChart(n int) Chart {
	var files []File
	for name, data := range testenv.LargeChart(n) {
		files = append(files, File{Name: name, Data: []byte(data)})
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return Chart{Name: "large", Files: files, ReleaseName: "big", Namespace: "apps"}
}

// BenchmarkRenderLarge renders a 60-template chart (the budget:
// 300 ms per changed revision).
func BenchmarkRenderLarge(b *testing.B) {
	c := largeChart(60)
	for b.Loop() {
		if _, err := (Renderer{}).Render(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRenderLarge(t *testing.T) {
	t.Parallel()
	out, err := Renderer{}.Render(context.Background(), largeChart(60))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), "\nkind: Deployment\n"); n != 60 {
		t.Errorf("rendered %d documents, want 60", n)
	}
}
