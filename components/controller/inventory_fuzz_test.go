package controller

import (
	"cmp"
	"encoding/json"
	"slices"
	"testing"
	"unicode/utf8"

	gocmp "github.com/google/go-cmp/cmp"

	capstanv1 "github.com/capstan-gitops/capstan/components/api/v1"
	"github.com/capstan-gitops/capstan/internal/apply"
)

// FuzzInventoryRoundTrip checks how the inventory is stored in a Sync's
// status: any references, written with toInventory and sent through JSON as
// the API server stores them, read back with inventoryRefs as the same set,
// sorted; and any status JSON read back is a fixed point of writing and
// reading again. Pruning trusts this: a reference lost on the way would
// leave an object behind, a reference invented would delete one.
func FuzzInventoryRoundTrip(f *testing.F) {
	f.Add("apps", "v1", "Deployment", "web", "web", "", "v1", "Namespace", "", "web", []byte(`{"inventory":{"entries":[{"kind":"ConfigMap","name":"a","version":"v1"}]}}`))
	f.Add("", "v1", "ConfigMap", "ns", "a", "", "v1", "ConfigMap", "ns", "a", []byte(`{}`))
	f.Add("capstan.dev", "v1", "Sync", "capstan-system", "root", "apiextensions.k8s.io", "v1", "CustomResourceDefinition", "", "syncs.capstan.dev", []byte(`{"inventory":{"entries":[]}}`))
	f.Add("", "", "", "", "", "a\x00b", "v2", "K", "n/s", "\u00e9", []byte(`{"inventory":{"entries":[{"group":"x","kind":"K","namespace":"n","name":"m","version":"v1","extra":1},{"kind":"K","name":"m","version":"v2"}]}}`))
	f.Add("g", "v1", "K", "n", "m", "g", "v2", "K", "n", "m", []byte(`{"inventory":null}`))
	f.Fuzz(func(t *testing.T, g1, v1, k1, ns1, n1, g2, v2, k2, ns2, n2 string, status []byte) {
		refs := []apply.Ref{
			{Group: g1, Version: v1, Kind: k1, Namespace: ns1, Name: n1},
			{Group: g2, Version: v2, Kind: k2, Namespace: ns2, Name: n2},
			{Group: g1, Version: v2, Kind: k2, Namespace: ns1, Name: n2},
		}
		// Kubernetes names, kinds and groups are UTF-8 (ASCII, in fact); JSON
		// cannot carry other bytes unchanged, nor can the API server.
		if allUTF8(refs) {
			for n := range len(refs) + 1 {
				got := roundTrip(t, refs[:n])
				if diff := gocmp.Diff(sortedRefs(refs[:n]), sortedRefs(got)); diff != "" {
					t.Fatalf("round trip of %d refs changed them (-want +got):\n%s", n, diff)
				}
				if !slices.IsSortedFunc(got, compareRefKeys) {
					t.Fatalf("refs read back are not sorted: %v", got)
				}
			}
		}
		var st capstanv1.SyncStatus
		if err := json.Unmarshal(status, &st); err != nil {
			return
		}
		once := inventoryRefs(&capstanv1.Sync{Status: st})
		if !allUTF8(once) {
			return
		}
		if diff := gocmp.Diff(sortedRefs(once), sortedRefs(roundTrip(t, once))); diff != "" {
			t.Fatalf("stored inventory %s changed on a second round trip (-want +got):\n%s", status, diff)
		}
	})
}

// roundTrip stores refs in a status as the controller does, sends it
// through JSON and reads it back.
func roundTrip(t *testing.T, refs []apply.Ref) []apply.Ref {
	t.Helper()
	data, err := json.Marshal(capstanv1.SyncStatus{Inventory: toInventory(slices.Clone(refs))})
	if err != nil {
		t.Fatalf("encoding inventory %v: %v", refs, err)
	}
	var back capstanv1.SyncStatus
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("decoding inventory %s: %v", data, err)
	}
	return inventoryRefs(&capstanv1.Sync{Status: back})
}

// sortedRefs returns refs ordered by every field, version included, with
// nil and empty alike.
func sortedRefs(refs []apply.Ref) []apply.Ref {
	out := slices.Clone(refs)
	slices.SortFunc(out, func(a, b apply.Ref) int {
		return cmp.Or(compareRefKeys(a, b), cmp.Compare(a.Version, b.Version))
	})
	if len(out) == 0 {
		return nil
	}
	return out
}

// compareRefKeys orders refs as apply.SortRefs does.
func compareRefKeys(a, b apply.Ref) int {
	return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

func allUTF8(refs []apply.Ref) bool {
	for _, r := range refs {
		for _, s := range []string{r.Group, r.Version, r.Kind, r.Namespace, r.Name} {
			if !utf8.ValidString(s) {
				return false
			}
		}
	}
	return true
}
