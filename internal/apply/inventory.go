package apply

import (
	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// Inventory is a set of object references, the objects a Sync owns. Two
// references to the same object at different API versions are one member;
// the version kept is the one added last. The zero value is empty.
type Inventory struct {
	refs map[Ref]Ref
}

// NewInventory returns the set of refs.
func NewInventory(refs []Ref) Inventory {
	inv := Inventory{refs: make(map[Ref]Ref, len(refs))}
	for _, r := range refs {
		inv.refs[r.key()] = r
	}
	return inv
}

// InventoryOf reads a Sync's recorded inventory.
func InventoryOf(s *capstanv1.Inventory) Inventory {
	if s == nil {
		return Inventory{}
	}
	refs := make([]Ref, 0, len(s.Entries))
	for _, e := range s.Entries {
		refs = append(refs, Ref{Group: e.Group, Version: e.Version, Kind: e.Kind, Namespace: e.Namespace, Name: e.Name})
	}
	return NewInventory(refs)
}

// Len returns how many objects the inventory holds.
func (inv Inventory) Len() int { return len(inv.refs) }

// Has reports whether r is a member, at any API version.
func (inv Inventory) Has(r Ref) bool {
	_, ok := inv.refs[r.key()]
	return ok
}

// Refs returns the members, sorted.
func (inv Inventory) Refs() []Ref {
	refs := make([]Ref, 0, len(inv.refs))
	for _, r := range inv.refs {
		refs = append(refs, r)
	}
	SortRefs(refs)
	return refs
}

// Union returns a new inventory of the members of inv and other; other's
// API versions win.
func (inv Inventory) Union(other Inventory) Inventory {
	out := Inventory{refs: make(map[Ref]Ref, len(inv.refs)+len(other.refs))}
	for k, r := range inv.refs {
		out.refs[k] = r
	}
	for k, r := range other.refs {
		out.refs[k] = r
	}
	return out
}

// Stale returns, sorted, the members of inv that current does not hold:
// what a prune should consider deleting.
func (inv Inventory) Stale(current Inventory) []Ref {
	var stale []Ref
	for k, r := range inv.refs {
		if _, ok := current.refs[k]; !ok {
			stale = append(stale, r)
		}
	}
	SortRefs(stale)
	return stale
}

// Status returns the inventory as a Sync's status records it, sorted; nil
// when it is empty.
func (inv Inventory) Status() *capstanv1.Inventory {
	if len(inv.refs) == 0 {
		return nil
	}
	refs := inv.Refs()
	out := &capstanv1.Inventory{Entries: make([]capstanv1.InventoryEntry, 0, len(refs))}
	for _, r := range refs {
		out.Entries = append(out.Entries, capstanv1.InventoryEntry{Group: r.Group, Version: r.Version, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name})
	}
	return out
}
