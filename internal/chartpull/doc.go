// Package chartpull fetches Helm charts for vendoring: from an HTTP chart
// repository (its index.yaml) or an OCI registry (Helm's artifact layout),
// with basic auth, verifying the digest the index or the registry names. It
// unpacks the untrusted archive in memory under limits (no path traversal,
// no absolute paths, no links, bounded sizes, entries and nesting), fetches
// dependencies a chart does not carry, and edits a kustomization's
// helmCharts entries in place, keeping the user's comments.
package chartpull
