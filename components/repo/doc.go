// Package repo is the repository layout that bootstrap keeps under
// <path>/capstan-system/: the rendered files (components, root Sync, stored
// settings, kustomization), how stored settings and flags resolve, and the
// one Install (with the root Sync's ownership and the git credentials
// Secret) that bootstrap and the drill both use to put the components into
// a cluster.
package repo
