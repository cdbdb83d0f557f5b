package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"testing"
)

func TestGitServerCutFetches(t *testing.T) {
	t.Parallel()
	srv := NewGitServer(t)
	srv.InitRepo(t, "app")
	big := make([]byte, 256<<10)
	_, _ = rand.Read(big)
	srv.Commit(t, "app", "main", map[string]string{"a.txt": "a", "big.txt": hex.EncodeToString(big)}, "initial")
	remotes := testRemotes(t, srv, "app")
	for _, r := range []testRemote{remotes[0], remotes[2]} { // http and https
		srv.CutFetches(1, 16<<10)
		if err := testList(t, r); err != nil {
			t.Fatalf("%s: listing refs was cut too: %v", r.name, err)
		}
		if _, err := testClone(t, r, "a.txt"); err == nil {
			t.Fatalf("%s: a clone cut after 16 KiB of a 512 KiB pack succeeded", r.name)
		} else {
			t.Logf("%s: cut clone failed with: %v", r.name, err)
		}
		got, err := testClone(t, r, "a.txt")
		if err != nil {
			t.Fatalf("%s: the clone after the cut: %v", r.name, err)
		}
		if got["a.txt"] != "a" {
			t.Errorf("%s: a.txt = %q", r.name, got["a.txt"])
		}
	}
}
