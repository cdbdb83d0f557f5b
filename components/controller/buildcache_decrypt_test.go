package controller

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"filippo.io/age"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/source"
)

// countingIdentity counts the data keys it is asked to open: one per
// encrypted file decrypted.
type countingIdentity struct {
	age.Identity
	n *atomic.Int64
}

func (c countingIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	c.n.Add(1)
	return c.Identity.Unwrap(stanzas)
}

// TestUnchangedRevisionIsNotDecryptedAgain: the build cache serves the
// reconciles of an unchanged revision (drift checks) without decrypting its
// files again; a new revision, or other identities, decrypt.
func TestUnchangedRevisionIsNotDecryptedAgain(t *testing.T) {
	t.Parallel()
	id := newAgeIdentity(t)
	var n atomic.Int64
	opts := build.Options{Identities: []age.Identity{countingIdentity{Identity: id, n: &n}}}
	const files = 5
	revision := func() source.Checkout {
		dir := t.TempDir()
		for i := range files {
			p := filepath.Join(dir, "apps", fmt.Sprintf("db%d.yaml", i))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(encryptedSecret(t, id, "default", fmt.Sprintf("db%d", i))), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return source.Checkout{Dir: dir, Revision: "main@sha1:" + filepath.Base(dir)}
	}
	c := NewBuildCache()
	first, second := revision(), revision()
	steps := []struct {
		name      string
		checkout  source.Checkout
		keys      string
		decrypted int64
	}{
		{"first reconcile", first, "keys-a", files},
		{"drift check of the same revision", first, "keys-a", 0},
		{"another drift check", first, "keys-a", 0},
		{"other identities", first, "keys-b", files},
		{"a new revision", second, "keys-a", files},
		{"a drift check of the new revision", second, "keys-a", 0},
	}
	for _, s := range steps {
		before := n.Load()
		objs, _, _, err := c.Get(t.Context(), s.checkout, "apps", opts, s.keys)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := n.Load() - before; got != s.decrypted {
			t.Errorf("%s: %d files decrypted, want %d", s.name, got, s.decrypted)
		}
		if len(objs) != files {
			t.Fatalf("%s: %d objects, want %d", s.name, len(objs), files)
		}
		for _, o := range objs {
			if v, _, _ := unstructured.NestedString(o.Object, "stringData", "password"); v != plaintextPassword {
				t.Errorf("%s: %s holds %q, want the plaintext", s.name, o.GetName(), v)
			}
		}
	}
}
