package bootstrap

import (
	"context"
	"errors"
	"fmt"

	"github.com/capstan-gitops/capstan/components/repo"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/git"
)

// resolveSSHAuth completes SSH credentials that the flags left out: the
// identity and known_hosts stored in the cluster by an earlier run, else a
// newly generated deploy key (stored at once, so a rerun reuses it) and the
// server's host key, trusted only with --accept-host-key.
func (r *run) resolveSSHAuth(ctx context.Context) error {
	if !r.sshAuthIncomplete() {
		return nil
	}
	stored, err := r.storedCredentials(ctx)
	if err != nil {
		return err
	}
	a := &r.opts.Auth
	if len(a.KnownHosts) == 0 {
		a.KnownHosts = stored[git.SecretKnownHosts]
	}
	if len(a.KnownHosts) == 0 {
		if err := r.trustHostKey(ctx); err != nil {
			return err
		}
	}
	if len(a.Identity) == 0 {
		a.Identity = stored[git.SecretIdentity]
	}
	if len(a.Identity) == 0 {
		return r.generateDeployKey(ctx)
	}
	return nil
}

func (r *run) storedCredentials(ctx context.Context) (map[string][]byte, error) {
	s := &corev1.Secret{}
	err := r.client.Get(ctx, client.ObjectKey{Namespace: manifests.Namespace, Name: repo.CredentialsSecret}, s)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading stored git credentials: %w", err)
	}
	return s.Data, nil
}

func (r *run) trustHostKey(ctx context.Context) error {
	hk, err := git.ScanHostKey(ctx, r.ep)
	if err != nil {
		return err
	}
	if !r.opts.AcceptHostKey {
		return fmt.Errorf("the ssh host key of %s is %s: check it with the git host, then pass --accept-host-key (or --ssh-known-hosts FILE)", r.ep.Host(), hk.Fingerprint)
	}
	r.opts.Auth.KnownHosts = hk.KnownHosts
	fmt.Fprintf(r.deps.Out, "Trusting the ssh host key of %s: %s\n", r.ep.Host(), hk.Fingerprint)
	return nil
}

// generateDeployKey makes a key, stores it in the cluster and prints its
// public half for the user to add to the repository.
func (r *run) generateDeployKey(ctx context.Context) error {
	priv, pub, err := git.GenerateKey("capstan")
	if err != nil {
		return err
	}
	r.opts.Auth.Identity = priv
	if _, err := r.applyCredentials(ctx); err != nil {
		return err
	}
	r.generatedKey = pub
	fmt.Fprintf(r.deps.Out, "Deploy key (add it to the repository with write access):\n%s\n", pub)
	return nil
}

// explainAuth turns a refused generated key into what to do about it.
func (r *run) explainAuth(err error) error {
	if r.generatedKey != "" && errors.Is(err, git.ErrAuthFailed) {
		return fmt.Errorf("the deploy key printed above is not authorized yet: add it to the repository with write access, then run the same command again: %w", err)
	}
	return err
}
