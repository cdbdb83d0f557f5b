package v1

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// TestSemverRangePattern checks that the CRD's pattern of spec.ref.semver
// takes the ranges the controller parses and refuses what it cannot.
func TestSemverRangePattern(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(SemverRangePattern)
	tests := []struct {
		in   string
		want bool
	}{
		{">=1.0.0", true},
		{"1.2.3", true},
		{"v1.2.3", true},
		{"^1.2", true},
		{"~1.2.x", true},
		{"~> 1.2", true},
		{"*", true},
		{"1.x", true},
		{">= 1.2, < 2.0", true},
		{">=1.2 <2.0", true},
		{"1.2 - 1.4.5", true},
		{"^1.0 || ^2.0", true},
		{">=1.0.0-rc.0", true},
		{"!=1.2.3", true},
		{"=1.0.0+build.1", true},
		{"", false},
		{"latest", false},
		{">=", false},
		{"1.2.3.4", false},
		{">>1.0", false},
		{"1.0 ||", false},
		{"main", false},
		{"${TAG}", false},
	}
	for _, tt := range tests {
		_, parseErr := semver.NewConstraint(tt.in)
		if got := re.MatchString(tt.in); got != tt.want {
			t.Errorf("pattern matches %q = %t, want %t", tt.in, got, tt.want)
		}
		if parses := parseErr == nil; parses != tt.want {
			t.Errorf("semver.NewConstraint(%q) parses = %t, want %t (%v)", tt.in, parses, tt.want, parseErr)
		}
	}
}

// TestSemverPatternInCRDMarker checks that the marker on GitRef.Semver is
// SemverRangePattern, written out.
func TestSemverPatternInCRDMarker(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("sync_types.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), "+kubebuilder:validation:Pattern=`"+SemverRangePattern+"`") {
		t.Error("the Pattern marker of GitRef.Semver is not SemverRangePattern; copy it from environment_types.go")
	}
}
