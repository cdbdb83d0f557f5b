package apply

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

func TestInventory(t *testing.T) {
	t.Parallel()
	a := Ref{Kind: "ConfigMap", Version: "v1", Namespace: "n", Name: "a"}
	b := Ref{Kind: "ConfigMap", Version: "v1", Namespace: "n", Name: "b"}
	bBeta := b
	bBeta.Version = "v1beta1"
	crd := Ref{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition", Version: "v1", Name: "syncs.capstan.dev"}
	tests := []struct {
		name         string
		old, current []Ref
		stale, union []Ref
	}{
		{name: "nothing before", current: []Ref{a}, union: []Ref{a}},
		{name: "one left", old: []Ref{a, b}, current: []Ref{a}, stale: []Ref{b}, union: []Ref{a, b}},
		{name: "version change is not a removal", old: []Ref{bBeta}, current: []Ref{b}, union: []Ref{b}},
		{name: "all left, sorted", old: []Ref{b, crd, a}, stale: []Ref{a, b, crd}, union: []Ref{a, b, crd}},
		{name: "duplicates are one member", old: []Ref{a, a}, current: []Ref{a}, union: []Ref{a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			old, current := NewInventory(tt.old), NewInventory(tt.current)
			if diff := cmp.Diff(tt.stale, old.Stale(current)); diff != "" {
				t.Errorf("Stale (-want +got):\n%s", diff)
			}
			u := old.Union(current)
			if diff := cmp.Diff(tt.union, u.Refs()); diff != "" {
				t.Errorf("Union (-want +got):\n%s", diff)
			}
			if u.Len() != len(tt.union) {
				t.Errorf("Len = %d, want %d", u.Len(), len(tt.union))
			}
			if old.Len() != NewInventory(tt.old).Len() {
				t.Errorf("Union changed its receiver")
			}
		})
	}
}

func TestInventoryStatus(t *testing.T) {
	t.Parallel()
	if s := (Inventory{}).Status(); s != nil {
		t.Errorf("empty inventory Status = %+v, want nil", s)
	}
	if n := InventoryOf(nil).Len(); n != 0 {
		t.Errorf("InventoryOf(nil).Len = %d, want 0", n)
	}
	refs := []Ref{{Kind: "Namespace", Version: "v1", Name: "web"}, {Group: "apps", Kind: "Deployment", Version: "v1", Namespace: "web", Name: "web"}}
	got := NewInventory(refs).Status()
	want := &capstanv1.Inventory{Entries: []capstanv1.InventoryEntry{
		{Kind: "Namespace", Version: "v1", Name: "web"},
		{Group: "apps", Kind: "Deployment", Version: "v1", Namespace: "web", Name: "web"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Status (-want +got):\n%s", diff)
	}
}

// FuzzInventoryRoundTrip checks how the inventory is stored in a Sync's
// status: any references, written with Status and sent through JSON as the
// API server stores them, read back with InventoryOf as the same objects at
// the versions added last; and any status JSON read back is a fixed point of
// writing and reading again. Pruning trusts this: a reference lost on the
// way would leave an object behind, a reference invented would delete one.
func FuzzInventoryRoundTrip(f *testing.F) {
	f.Add("apps", "v1", "Deployment", "web", "web", "", "v1", "Namespace", "", "web", []byte(`{"inventory":{"entries":[{"kind":"ConfigMap","name":"a","version":"v1"}]}}`))
	f.Add("", "v1", "ConfigMap", "ns", "a", "", "v1", "ConfigMap", "ns", "a", []byte(`{}`))
	f.Add("capstan.dev", "v1", "Sync", "capstan-system", "root", "apiextensions.k8s.io", "v1", "CustomResourceDefinition", "", "syncs.capstan.dev", []byte(`{"inventory":{"entries":[]}}`))
	f.Add("", "", "", "", "", "a\x00b", "v2", "K", "n/s", "\u00e9", []byte(`{"inventory":{"entries":[{"group":"x","kind":"K","namespace":"n","name":"m","version":"v1","extra":1},{"kind":"K","name":"m","version":"v2"}]}}`))
	f.Add("g", "v1", "K", "n", "m", "g", "v2", "K", "n", "m", []byte(`{"inventory":null}`))
	f.Fuzz(func(t *testing.T, g1, v1, k1, ns1, n1, g2, v2, k2, ns2, n2 string, status []byte) {
		refs := []Ref{
			{Group: g1, Version: v1, Kind: k1, Namespace: ns1, Name: n1},
			{Group: g2, Version: v2, Kind: k2, Namespace: ns2, Name: n2},
			{Group: g1, Version: v2, Kind: k2, Namespace: ns1, Name: n2},
		}
		// Kubernetes names, kinds and groups are UTF-8 (ASCII, in fact); JSON
		// cannot carry other bytes unchanged, nor can the API server.
		if allUTF8(refs) {
			for n := range len(refs) + 1 {
				want := map[Ref]Ref{}
				for _, r := range refs[:n] {
					want[r.key()] = r
				}
				got := roundTrip(t, NewInventory(refs[:n]))
				if diff := cmp.Diff(want, got.refs); len(want)+len(got.refs) > 0 && diff != "" {
					t.Fatalf("round trip of %d refs changed them (-want +got):\n%s", n, diff)
				}
			}
		}
		var st capstanv1.SyncStatus
		if err := json.Unmarshal(status, &st); err != nil {
			return
		}
		once := InventoryOf(st.Inventory)
		if !allUTF8(once.Refs()) {
			return
		}
		if diff := cmp.Diff(once.Refs(), roundTrip(t, once).Refs()); diff != "" {
			t.Fatalf("stored inventory %s changed on a second round trip (-want +got):\n%s", status, diff)
		}
	})
}

// roundTrip stores inv in a status as the controller does, sends it
// through JSON and reads it back.
func roundTrip(t *testing.T, inv Inventory) Inventory {
	t.Helper()
	data, err := json.Marshal(capstanv1.SyncStatus{Inventory: inv.Status()})
	if err != nil {
		t.Fatalf("encoding inventory %v: %v", inv.Refs(), err)
	}
	var back capstanv1.SyncStatus
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("decoding inventory %s: %v", data, err)
	}
	return InventoryOf(back.Inventory)
}

func allUTF8(refs []Ref) bool {
	for _, r := range refs {
		for _, s := range []string{r.Group, r.Version, r.Kind, r.Namespace, r.Name} {
			if !utf8.ValidString(s) {
				return false
			}
		}
	}
	return true
}
