// Package build turns a directory of a git checkout into Kubernetes objects.
//
// The checkout is untrusted: anyone who can push to the repository controls
// its content. Build therefore confines every file access to the checkout
// (symlinks included), bounds the work it does with [Limits], refuses YAML
// alias bombs, and runs kustomize on an in-memory copy of the checkout with
// plugins, exec and container functions, helm and remote bases disabled.
//
// A directory that holds a kustomization file is built with kustomize; any
// other directory is walked and its *.yaml, *.yml and *.json files decoded.
// Every failure caused by the content of the revision is an [*Error], which
// names the file (and, where known, the line) and is terminal for that
// revision: retrying the same revision cannot succeed. Other errors (the
// context ending, the checkout vanishing) are transient.
package build
