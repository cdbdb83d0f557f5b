package check

import (
	"context"
	"os"
	"strconv"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/version"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/clusters"
)

// MinMinor is the oldest Kubernetes 1.x minor release Capstan supports.
const MinMinor = 28

// Pre checks that the cluster c reaches, and this machine, are ready for a
// bootstrap. server names the cluster in the report.
func Pre(ctx context.Context, c client.Client, server string, v *version.Info) Report {
	var r Report
	r.add("cluster", true, "reached %s", clusters.RedactURL(server))
	checkVersion(&r, v)
	checkPermissions(ctx, &r, c)
	checkWorkDir(&r)
	return r.finish()
}

func checkVersion(r *Report, v *version.Info) {
	if v == nil {
		r.add("kubernetes version", false, "unknown")
		return
	}
	major, err1 := strconv.Atoi(v.Major)
	minor, err2 := strconv.Atoi(strings.TrimSuffix(v.Minor, "+"))
	switch {
	case err1 != nil || err2 != nil:
		r.add("kubernetes version", false, "unrecognised version %q.%q", v.Major, v.Minor)
	case major < 1 || (major == 1 && minor < MinMinor):
		r.add("kubernetes version", false, "%d.%d is too old: capstan needs 1.%d or newer", major, minor, MinMinor)
	default:
		r.add("kubernetes version", true, "%d.%d (1.%d or newer is needed)", major, minor, MinMinor)
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
			r.add("permissions", false, "asking the API server: %v", err)
			return
		}
		if !review.Status.Allowed {
			missing = append(missing, ra.Verb+" "+ra.Resource)
		}
	}
	if len(missing) > 0 {
		r.add("permissions", false, "may not %s: bootstrap needs cluster-admin rights", strings.Join(missing, ", "))
		return
	}
	r.add("permissions", true, "may create CRDs, cluster roles and bindings, namespaces, deployments and secrets")
}

// checkWorkDir checks that bootstrap can clone the repository locally.
func checkWorkDir(r *Report) {
	dir, err := os.MkdirTemp("", "capstan-check-")
	if err != nil {
		r.add("work directory", false, "cannot create a directory under %s for the git checkout: %v", os.TempDir(), err)
		return
	}
	_ = os.RemoveAll(dir)
	r.add("work directory", true, "%s is writable", os.TempDir())
}
