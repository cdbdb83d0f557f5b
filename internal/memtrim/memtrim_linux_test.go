//go:build linux

package memtrim

import (
	"strings"
	"testing"
)

// TestRelease pages out this test binary's own code, which its package
// initialisers and the test runner have touched, and checks that the
// resident part of the file shrank and that the code still runs.
func TestRelease(t *testing.T) {
	before, after, err := Release()
	if err != nil {
		t.Fatal(err)
	}
	if before <= 0 {
		t.Fatalf("RssFile before = %d KiB, want a positive size", before)
	}
	if after >= before {
		t.Errorf("RssFile after = %d KiB, want less than the %d KiB before", after, before)
	}
	t.Logf("resident file pages: %d KiB before, %d KiB after", before, after)
	// Code paged out is read back when it runs again.
	if got := strings.Repeat("ab", 3); got != "ababab" {
		t.Errorf("strings.Repeat = %q after the release", got)
	}
}
