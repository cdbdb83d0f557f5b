package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/sops"
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

// TestSealSecret: the Secret the demo commits holds only ciphertext, never
// the key, and opens with the key made at run time, to the value whose
// digest the demo compares the clusters' Secrets with.
func TestSealSecret(t *testing.T) {
	t.Parallel()
	s, err := sealSecret(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ids, err := sops.ParseIdentities(s.keyFile)
	if err != nil || len(ids) != 1 || sops.Recipient(ids[0]) != s.recipient {
		t.Fatalf("the key file does not hold the identity of %s: %v", s.recipient, err)
	}
	if bytes.Contains(s.manifest, []byte("AGE-SECRET-KEY")) {
		t.Error("the committed manifest holds a private key")
	}
	recips, err := sops.Recipients(s.manifest, sops.YAML)
	if err != nil || !slices.Equal(recips, []string{s.recipient}) {
		t.Errorf("encrypted for %v (%v), want %s", recips, err, s.recipient)
	}
	plain, err := sops.Decrypt(s.manifest, sops.YAML, ids)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := build.Decode(secretFile, plain)
	if err != nil || len(objs) != 1 {
		t.Fatalf("decoding the decrypted Secret: %v", err)
	}
	o := objs[0]
	value, _, _ := unstructured.NestedString(o.Object, "stringData", secretKey)
	if o.GetKind() != "Secret" || o.GetNamespace() != secretNamespace || o.GetName() != secretName || value == "" || digest([]byte(value)) != s.digest {
		t.Errorf("decrypted %s %s/%s with a value of digest %s, want Secret %s/%s of digest %s", o.GetKind(), o.GetNamespace(), o.GetName(), digest([]byte(value)), secretNamespace, secretName, s.digest)
	}
	if bytes.Contains(s.manifest, []byte(value)) {
		t.Error("the committed manifest holds the plaintext value")
	}
	other, err := sealSecret(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if other.digest == s.digest || other.recipient == s.recipient {
		t.Error("two runs made the same key or value: they must be new each run")
	}
	otherIDs, _ := sops.ParseIdentities(other.keyFile)
	if _, err := sops.Decrypt(s.manifest, sops.YAML, otherIDs); err == nil {
		t.Error("another run's key opens the Secret")
	}
}

// TestNoPrivateKeyInTheRepository: no file of this repository holds an age
// private key; the demo makes its own each run, in its work dir.
func TestNoPrivateKeyInTheRepository(t *testing.T) {
	t.Parallel()
	key := regexp.MustCompile(`AGE-SECRET-KEY-(PQ-)?1[02-9ACDEFGHJKLMNPQRSTUVWXYZ]{50,}`)
	if s, err := sealSecret(time.Now()); err != nil || !key.Match(s.keyFile) {
		t.Fatalf("the pattern does not find a key age makes (%v)", err)
	}
	root := filepath.Join("..", "..")
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin") {
			return fs.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if loc := key.FindIndex(data); loc != nil {
			t.Errorf("%s holds an age private key", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("only %d files searched: is %s the repository?", n, root)
	}
}
