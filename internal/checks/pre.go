package checks

import (
	"context"
	"os"
	"strconv"
	"strings"

	"github.com/capstan-gitops/capstan/internal/redact"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/version"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// MinMinor is the oldest Kubernetes 1.x minor release Capstan supports.
const MinMinor = 28

// Prober checks, before a cluster is created or reached, what its provider
// needs of this machine (for k3d: Docker answers, the images are there or
// can be pulled, a privileged container starts, the ports are free). It
// adds one result per check and leaves nothing behind.
type Prober interface {
	Probe(ctx context.Context, r *Report)
}

// Machine runs the prober's checks. It is the first half of the preflight,
// run before anything is created; Pre is the second.
func Machine(ctx context.Context, p Prober) Report {
	var r Report
	p.Probe(ctx, &r)
	return r.Finish()
}

// Pre checks that the cluster c reaches, and this machine, are ready for a
// bootstrap. server names the cluster in the report.
func Pre(ctx context.Context, c client.Client, server string, v *version.Info) Report {
	var r Report
	r.Add("cluster", true, "reached %s", redact.URL(server))
	checkVersion(&r, v)
	checkPermissions(ctx, &r, c)
	checkWorkDir(&r)
	return r.Finish()
}

func checkVersion(r *Report, v *version.Info) {
	if v == nil {
		r.Add("kubernetes version", false, "unknown")
		return
	}
	major, err1 := strconv.Atoi(v.Major)
	minor, err2 := strconv.Atoi(strings.TrimSuffix(v.Minor, "+"))
	switch {
	case err1 != nil || err2 != nil:
		r.Add("kubernetes version", false, "unrecognised version %q.%q", v.Major, v.Minor)
	case major < 1 || (major == 1 && minor < MinMinor):
		r.Add("kubernetes version", false, "%d.%d is too old: capstan needs 1.%d or newer", major, minor, MinMinor)
	default:
		r.Add("kubernetes version", true, "%d.%d (1.%d or newer is needed)", major, minor, MinMinor)
	}
}

// installVerbs are what a bootstrap creates.
var installVerbs = []authorizationv1.ResourceAttributes{
	{Verb: "create", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
	{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
	{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"},
	{Verb: "create", Resource: "namespaces"},
	{Verb: "create", Group: "apps", Resource: "deployments", Namespace: "capstan-system"},
	{Verb: "create", Resource: "secrets", Namespace: "capstan-system"},
}

func checkPermissions(ctx context.Context, r *Report, c client.Client) {
	var missing []string
	for _, ra := range installVerbs {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &ra}}
		if err := c.Create(ctx, review); err != nil {
			r.Add("permissions", false, "asking the API server: %v", err)
			return
		}
		if !review.Status.Allowed {
			missing = append(missing, ra.Verb+" "+ra.Resource)
		}
	}
	if len(missing) > 0 {
		r.Add("permissions", false, "may not %s: bootstrap needs cluster-admin rights", strings.Join(missing, ", "))
		return
	}
	r.Add("permissions", true, "may create CRDs, cluster roles and bindings, namespaces, deployments and secrets")
}

// checkWorkDir checks that bootstrap can clone the repository locally.
func checkWorkDir(r *Report) {
	dir, err := os.MkdirTemp("", "capstan-check-")
	if err != nil {
		r.Add("work directory", false, "cannot create a directory under %s for the git checkout: %v", os.TempDir(), err)
		return
	}
	_ = os.RemoveAll(dir)
	r.Add("work directory", true, "%s is writable", os.TempDir())
}
