// Package faults injects faults into a running Capstan, the way they happen
// in production: the controller killed or stopped mid-apply, the API server
// and the git server going away, a branch rewritten or deleted, a deletion
// refused, a bootstrap interrupted, a controller image that crashes. Every
// test runs the built binary against a real control plane and a real git
// server, says what Capstan is expected to do, and checks that nothing was
// lost: the objects of the last good revision are still there and
// unchanged, the inventory still lists everything that may exist, and
// nothing that should stay was pruned.
package faults
