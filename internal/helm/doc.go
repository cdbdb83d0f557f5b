// Package helm renders a Helm chart in-process, as `helm template` does,
// from files already read into memory.
//
// The chart comes from a repository and is untrusted, so rendering never
// reaches outside the chart: `lookup` returns empty (no cluster client is
// given to the engine), DNS functions return empty, `.Files` holds only
// the chart's own files, and [Limits] bound the time a render may take and
// the bytes it may produce. Test hooks are dropped; other hooks are kept as
// ordinary manifests, as `kustomize build --enable-helm` emits them.
//
// Nothing here reads the file system or runs a program, and a render
// opens no connection: the caller hands over the chart's files, the values
// and, when the render is for a cluster, its [Capabilities], which
// [Discover] reads through the caller's discovery client.
package helm
