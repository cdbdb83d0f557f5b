package checks

import (
	"testing"

	"k8s.io/apimachinery/pkg/version"
)

func TestCheckVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		major, minor string
		ok           bool
		want         string
	}{
		{name: "current", major: "1", minor: "37", ok: true, want: "1.37 (1.28 or newer is needed)"},
		{name: "oldest", major: "1", minor: "28+", ok: true, want: "1.28 (1.28 or newer is needed)"},
		{name: "too old", major: "1", minor: "27", want: "1.27 is too old: capstan needs 1.28 or newer"},
		{name: "garbage", major: "one", minor: "x", want: `unrecognised version "one"."x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r Report
			checkVersion(&r, &version.Info{Major: tt.major, Minor: tt.minor})
			if got := r.Checks[0]; got.OK != tt.ok || got.Message != tt.want {
				t.Errorf("checkVersion = %+v, want ok=%v %q", got, tt.ok, tt.want)
			}
		})
	}
}

func TestProblem(t *testing.T) {
	t.Parallel()
	var r Report
	r.Add("cluster", true, "reached %s", "https://127.0.0.1:6443")
	if err := r.Finish().Problem(); err != nil {
		t.Errorf("Problem of a passing report = %v, want nil", err)
	}
	r.Add("kubernetes version", false, "1.27 is too old")
	r.Add("permissions", false, "may not create namespaces")
	err := r.Finish().Problem()
	want := "kubernetes version: 1.27 is too old; permissions: may not create namespaces"
	if err == nil || err.Error() != want {
		t.Errorf("Problem = %v, want %q", err, want)
	}
}
