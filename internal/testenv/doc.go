// Package testenv provides real test infrastructure: a Kubernetes control
// plane from local binaries (kwok) and a git server on loopback.
package testenv
