// Package interop tests internal/sops against the reference sops and
// age-keygen CLIs pinned in hack/tools/sops. It is a package of its own so
// that fuzzing internal/sops does not build the test environment.
package interop
