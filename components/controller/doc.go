// Package controller reconciles Sync objects: it fetches a git revision,
// builds the manifests at the Sync's path, applies them with server-side
// apply, waits for them to be healthy, prunes what left git, and reports all
// of it in the Sync's status.
//
// Each reconcile runs the same ordered steps over one per-reconcile struct
// (see run.go); only the fetch (git) and the apply, health and prune steps
// (the API server) touch the world.
package controller
