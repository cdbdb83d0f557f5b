package apply

import (
	"crypto/sha256"
	"testing"
	"time"
)

func TestMemoryVouchesOnlyForWhatDidNotMove(t *testing.T) {
	t.Parallel()
	ref := Ref{Version: "v1", Kind: "ConfigMap", Namespace: "n", Name: "a"}
	other := ref
	other.Version = "v1beta1" // the same object at another version
	d1, d2 := sha256.Sum256([]byte("one")), sha256.Sum256([]byte("two"))
	tests := []struct {
		name        string
		remember    bool
		rememberRV  string
		ref         Ref
		digest      [sha256.Size]byte
		rv          string
		age         time.Duration
		want        bool
		wantCurrent bool
	}{
		{name: "nothing remembered", rv: "7", ref: ref, digest: d1},
		{name: "same object, same version", remember: true, rememberRV: "7", ref: ref, digest: d1, rv: "7", want: true, wantCurrent: true},
		{name: "same object at another API version", remember: true, rememberRV: "7", ref: other, digest: d1, rv: "7", want: true, wantCurrent: true},
		{name: "written since", remember: true, rememberRV: "7", ref: ref, digest: d1, rv: "8"},
		{name: "desired object changed", remember: true, rememberRV: "7", ref: ref, digest: d2, rv: "7"},
		{name: "not in the owner's list", remember: true, rememberRV: "7", ref: ref, digest: d1, rv: ""},
		{name: "verified too long ago", remember: true, rememberRV: "7", ref: ref, digest: d1, rv: "7", age: VerifyEvery},
		{name: "digest unknown", remember: true, rememberRV: "7", ref: ref, digest: [sha256.Size]byte{}, rv: "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			m := NewMemory()
			m.now = func() time.Time { return now }
			if tt.remember {
				m.remember(ref, d1, tt.rememberRV, true)
			}
			now = now.Add(tt.age)
			ok, current := m.unchanged(tt.ref, tt.digest, tt.rv)
			if ok != tt.want || current != tt.wantCurrent {
				t.Errorf("unchanged = %v, %v; want %v, %v", ok, current, tt.want, tt.wantCurrent)
			}
		})
	}
}

func TestMemoryRetainsOnlyDesiredObjects(t *testing.T) {
	t.Parallel()
	a := Ref{Version: "v1", Kind: "ConfigMap", Namespace: "n", Name: "a"}
	b := Ref{Version: "v1", Kind: "ConfigMap", Namespace: "n", Name: "b"}
	d := sha256.Sum256([]byte("x"))
	m := NewMemory()
	m.remember(a, d, "1", true)
	m.remember(b, d, "2", true)
	m.retain([]Ref{b})
	if ok, _ := m.unchanged(a, d, "1"); ok || m.Len() != 1 {
		t.Errorf("after retain(b): a still vouched for (%v) or %d entries, want 1", ok, m.Len())
	}
	m.forget(b)
	if m.Len() != 0 {
		t.Errorf("after forget(b): %d entries, want 0", m.Len())
	}
}
