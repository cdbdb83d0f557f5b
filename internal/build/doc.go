// Package build turns a directory of a git checkout into Kubernetes objects.
//
// The checkout is untrusted: anyone who can push to the repository controls
// its content. Build therefore confines every file access to the checkout
// (symlinks included), bounds the work it does with [Limits], refuses YAML
// alias bombs, and runs kustomize on an in-memory copy of the checkout with
// plugins, exec and container functions, helm and remote bases disabled.
//
// A kustomization's helmCharts entries are rendered in-process (package
// internal/helm) from the charts vendored under helmGlobals.chartHome,
// before kustomize runs: the rendered objects are added to the
// kustomization as kustomize's helm generator adds them, so patches,
// labels and prefixes apply to them, the kustomization's namespace is the
// release namespace, and the output equals `kustomize build --enable-helm`
// (test hooks aside, which are dropped). A chart that is not vendored is
// refused with the command that vendors it.
//
// A directory that holds a kustomization file is built with kustomize; any
// other directory is walked and its *.yaml, *.yml and *.json files decoded.
// Every failure caused by the content of the revision is an [*Error], which
// names the file (and, where known, the line) and is terminal for that
// revision: retrying the same revision cannot succeed. Other errors (the
// context ending, the checkout vanishing) are transient.
package build
