// Package clusters hides the ways Capstan gets a Kubernetes cluster behind
// one small interface: a local k3d cluster in Docker (clusters/k3d), a
// simulated kwok cluster from local binaries (clusters/kwok), or an existing
// cluster reached through a kubeconfig (clusters/existing).
//
// Every Provider is bound to one cluster when it is constructed. Ensure is
// check-then-act, so running it again converges: it creates the cluster only
// when it is missing and never changes a cluster that already exists beyond
// reading it. Delete removes only clusters that Capstan created.
package clusters

import (
	"context"
	"errors"

	"k8s.io/client-go/rest"
)

// Provider gives access to one cluster, creating it when the provider can.
type Provider interface {
	// Name is the kind of provider: "k3d", "kwok" or "kubeconfig".
	Name() string
	// Exists reports whether the cluster exists, without creating or changing it.
	Exists(ctx context.Context) (bool, error)
	// Ensure creates the cluster if it is missing and returns how to reach it.
	Ensure(ctx context.Context) (Cluster, error)
	// Delete removes the cluster if Capstan created it. Deleting a cluster
	// that does not exist succeeds; deleting one Capstan did not create
	// fails with ErrNotOwned.
	Delete(ctx context.Context) error
}

// Cluster is how to reach a cluster returned by Provider.Ensure.
type Cluster struct {
	// Name is the cluster's name in its provider (for k3d and kwok, without
	// the "k3d-"/"kwok-" context prefix).
	Name string
	// Config is an admin client configuration for the cluster.
	Config *rest.Config
	// Kubeconfig is the kubeconfig file that holds Context. Empty means the
	// context was not written to a file (k3d without a kubeconfig path), or,
	// for the kubeconfig provider, kubectl's default loading rules.
	Kubeconfig string
	// Context is the kubeconfig context of the cluster, such as "k3d-capstan".
	Context string
	// Created is true when this call to Ensure created the cluster.
	Created bool
}

// ErrNotOwned means Capstan refused to delete a cluster it did not create.
var ErrNotOwned = errors.New("cluster was not created by capstan")

// Error is a failure whose cause is known. Error() is the one line a
// person reads, Hint what to do about it, and Detail the full error
// underneath, which the CLI shows with --verbose.
type Error struct {
	// Summary names the cause in a line.
	Summary string
	// Next is what to do next.
	Next string
	// Err is the error underneath.
	Err error
}

func (e *Error) Error() string { return e.Summary }

// Unwrap returns the error underneath.
func (e *Error) Unwrap() error { return e.Err }

// Hint says what to do next.
func (e *Error) Hint() string { return e.Next }

// Detail is the full error underneath.
func (e *Error) Detail() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}
