package bootstrap

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/clusters"
	"github.com/capstan-gitops/capstan/components/controller"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/git"
)

// minMinor is the oldest Kubernetes 1.x minor release Capstan supports.
const minMinor = 28

// ensureCluster creates or connects to the cluster and checks that it is
// recent enough and that the caller may install Capstan.
func (r *run) ensureCluster(ctx context.Context) (string, error) {
	c, err := r.deps.Cluster.Ensure(ctx)
	if err != nil {
		return "", err
	}
	r.cluster = c
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return "", fmt.Errorf("creating clientset: %w", err)
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		return "", fmt.Errorf("asking the API server for its version: %w", err)
	}
	if err := checkVersion(v.Major, v.Minor); err != nil {
		return "", err
	}
	if err := checkPermissions(ctx, cs); err != nil {
		return "", err
	}
	if r.client, err = r.newClient(c); err != nil {
		return "", err
	}
	verb := "connected to"
	if c.Created {
		verb = "created"
	}
	return fmt.Sprintf("%s %s (Kubernetes %s.%s)", verb, displayName(c), v.Major, strings.TrimSuffix(v.Minor, "+")), nil
}

func displayName(c clusters.Cluster) string {
	if c.Context != "" {
		return c.Context
	}
	return c.Name
}

func (r *run) newClient(c clusters.Cluster) (client.Client, error) {
	if r.deps.NewClient != nil {
		return r.deps.NewClient(c)
	}
	scheme, err := controller.NewScheme()
	if err != nil {
		return nil, err
	}
	cl, err := client.New(c.Config, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("creating API client: %w", err)
	}
	return cl, nil
}

// checkVersion refuses clusters older than 1.minMinor.
func checkVersion(major, minor string) error {
	mj, err1 := strconv.Atoi(major)
	mn, err2 := strconv.Atoi(strings.TrimSuffix(minor, "+"))
	if err1 != nil || err2 != nil {
		return fmt.Errorf("unrecognised Kubernetes version %q.%q", major, minor)
	}
	if mj < 1 || (mj == 1 && mn < minMinor) {
		return fmt.Errorf("kubernetes %d.%d is too old: capstan needs 1.%d or newer", mj, mn, minMinor)
	}
	return nil
}

// checkPermissions asks the API server whether the caller may create what
// an install creates.
func checkPermissions(ctx context.Context, cs kubernetes.Interface) error {
	checks := []authorizationv1.ResourceAttributes{
		{Verb: "create", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
		{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
		{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"},
		{Verb: "create", Resource: "namespaces"},
	}
	var missing []string
	for _, ra := range checks {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &ra}}
		res, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("checking permissions: %w", err)
		}
		if !res.Status.Allowed {
			missing = append(missing, ra.Verb+" "+ra.Resource)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("this kubeconfig may not %s: bootstrap needs cluster-admin rights", strings.Join(missing, ", "))
	}
	return nil
}

// bootstrapManager is the field manager of what bootstrap writes outside
// git (the namespace it needs first, the credentials Secret), so that it
// never takes fields away from the controller's own manager.
const bootstrapManager = "capstan-bootstrap"

// applyCredentials creates or updates the git credentials Secret. It is
// never written to git nor printed.
func (r *run) applyCredentials(ctx context.Context) (string, error) {
	if !r.opts.hasCredentials() {
		return "none needed", nil
	}
	if err := ApplyCredentials(ctx, r.client, r.opts.Auth); err != nil {
		return "", err
	}
	return "secret " + manifests.Namespace + "/" + CredentialsSecret, nil
}

// ApplyCredentials creates or updates the Secret CredentialsSecret, and the
// namespace it lives in, with auth laid out as the controller reads it.
func ApplyCredentials(ctx context.Context, c client.Client, auth git.Auth) error {
	owner := []client.ApplyOption{client.FieldOwner(bootstrapManager), client.ForceOwnership}
	if err := c.Apply(ctx, corev1ac.Namespace(manifests.Namespace), owner...); err != nil {
		return fmt.Errorf("creating namespace %s: %w", manifests.Namespace, err)
	}
	secret := corev1ac.Secret(CredentialsSecret, manifests.Namespace).WithData(git.SecretData(auth))
	if err := c.Apply(ctx, secret, owner...); err != nil {
		return fmt.Errorf("writing secret %s/%s: %w", manifests.Namespace, CredentialsSecret, err)
	}
	return nil
}
