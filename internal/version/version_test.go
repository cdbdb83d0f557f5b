package version

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	tests := []struct {
		name         string
		linkV, linkC string
		bi           *debug.BuildInfo
		wantV, wantC string
	}{
		{name: "nothing known", wantV: Dev, wantC: "unknown"},
		{name: "ldflags win", linkV: "v1.2.3", linkC: "abc", bi: &debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}}, wantV: "v1.2.3", wantC: "abc"},
		{name: "go install", bi: &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, wantV: "v0.4.0", wantC: "unknown"},
		{name: "go run in a checkout", bi: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "deadbeef"}}}, wantV: Dev, wantC: "deadbeef"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := resolve(tt.linkV, tt.linkC, tt.bi)
			want := Info{Version: tt.wantV, Commit: tt.wantC, GoVersion: runtime.Version(), Platform: platform}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("resolve() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
