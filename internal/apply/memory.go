package apply

import (
	"crypto/sha256"
	"encoding/json"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// VerifyEvery bounds how long Memory vouches for an object: past it, the
// object is dry-run again even if nobody wrote to it, so that what only a
// dry run shows (a new admission webhook, changed defaults) is noticed.
const VerifyEvery = 10 * time.Minute

// Memory remembers, for one owner, the state in which each of its objects
// was last known to match what was applied: the object's resourceVersion
// then, and a digest of the desired object. While both are unchanged, a
// dry run could only report "unchanged" again, so Apply skips it. It holds
// no object, only names, versions and digests, and is safe for concurrent
// use.
type Memory struct {
	mu      sync.Mutex
	entries map[Ref]memo
	now     func() time.Time
}

type memo struct {
	resourceVersion string
	digest          [sha256.Size]byte
	current         bool
	verified        time.Time
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{entries: map[Ref]memo{}, now: time.Now}
}

// Len returns how many objects the memory holds.
func (m *Memory) Len() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// unchanged reports whether the object ref, desired as digest and now at
// resourceVersion rv, is as it was when last verified, and whether it was
// Current by kstatus then.
func (m *Memory) unchanged(ref Ref, digest [sha256.Size]byte, rv string) (ok, current bool) {
	if m == nil || rv == "" || digest == ([sha256.Size]byte{}) {
		return false, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, found := m.entries[ref.key()]
	if !found || e.resourceVersion != rv || e.digest != digest || m.now().Sub(e.verified) >= VerifyEvery {
		return false, false
	}
	return true, e.current
}

// remember records that the object ref, desired as digest, matched it at
// resourceVersion rv.
func (m *Memory) remember(ref Ref, digest [sha256.Size]byte, rv string, current bool) {
	if m == nil || rv == "" || digest == ([sha256.Size]byte{}) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[ref.key()] = memo{resourceVersion: rv, digest: digest, current: current, verified: m.now()}
}

// forget drops what the memory knows about ref.
func (m *Memory) forget(ref Ref) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, ref.key())
}

// retain drops every object but those in keep.
func (m *Memory) retain(keep []Ref) {
	if m == nil {
		return
	}
	set := make(map[Ref]struct{}, len(keep))
	for _, r := range keep {
		set[r.key()] = struct{}{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for r := range m.entries {
		if _, ok := set[r]; !ok {
			delete(m.entries, r)
		}
	}
}

// digestOf returns a digest of the desired object. JSON encoding of an
// unstructured object sorts map keys, so equal objects give equal digests.
func digestOf(o *unstructured.Unstructured) [sha256.Size]byte {
	b, err := json.Marshal(o.Object)
	if err != nil {
		// Never equal to a remembered digest: the object is always checked.
		return [sha256.Size]byte{}
	}
	return sha256.Sum256(b)
}
