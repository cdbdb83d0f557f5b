package check

import (
	"context"
	"fmt"

	"github.com/capstan-gitops/capstan/internal/checks"

	appsv1 "k8s.io/api/apps/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/day2/syncs"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
)

// Installed checks Capstan in the cluster: the Sync CRD, the controller
// Deployment and every Sync. The error is kubeclient's not-installed error
// when the CRD is missing, and an API failure otherwise; failed checks are
// in the report.
func Installed(ctx context.Context, c client.Client) (checks.Report, error) {
	var r checks.Report
	installed, err := checkCRD(ctx, &r, c)
	if err != nil {
		return r.Finish(), err
	}
	if err := checkController(ctx, &r, c); err != nil {
		return r.Finish(), err
	}
	if !installed {
		return r.Finish(), kubeclient.NotInstalled()
	}
	items, err := syncs.List(ctx, c, "")
	if err != nil {
		return r.Finish(), err
	}
	if len(items) == 0 {
		r.Add("syncs", false, "none: bootstrap creates the root Sync %s/%s", manifests.Namespace, "capstan-system")
	}
	for i := range items {
		checkSync(&r, &items[i])
	}
	return r.Finish(), nil
}

// checkCRD checks that the Sync CRD is established and serves and stores
// the API version this CLI speaks.
func checkCRD(ctx context.Context, r *checks.Report, c client.Client) (bool, error) {
	name := "crd " + manifests.CRDName
	crd := &apiextensionsv1.CustomResourceDefinition{}
	err := c.Get(ctx, client.ObjectKey{Name: manifests.CRDName}, crd)
	switch {
	case apierrors.IsNotFound(err):
		r.Add(name, false, "not found")
		return false, nil
	case err != nil:
		return false, kubeclient.Explain(err, "reading the Sync CRD", client.ObjectKey{})
	}
	want := capstanv1.GroupVersion.Version
	var served, stored bool
	for _, v := range crd.Spec.Versions {
		if v.Name == want {
			served, stored = v.Served, v.Storage
		}
	}
	established := false
	for _, cond := range crd.Status.Conditions {
		if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
			established = true
		}
	}
	version := crd.Labels[manifests.VersionLabel]
	switch {
	case !established:
		r.Add(name, false, "not established")
	case !served || !stored:
		r.Add(name, false, "does not serve and store %s, the version this CLI speaks (%s)", capstanv1.GroupVersion, versionText(version))
	default:
		r.Add(name, true, "established, serves %s (%s)", capstanv1.GroupVersion, versionText(version))
	}
	return true, nil
}

// checkController checks that the controller Deployment has an available,
// up-to-date replica.
func checkController(ctx context.Context, r *checks.Report, c client.Client) error {
	name := "controller"
	key := client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.ControllerName}
	dep := &appsv1.Deployment{}
	err := c.Get(ctx, key, dep)
	switch {
	case apierrors.IsNotFound(err):
		r.Add(name, false, "deployment %s not found", key)
		return nil
	case err != nil:
		return kubeclient.Explain(err, "reading the controller deployment", client.ObjectKey{})
	}
	controllerResult(r, dep)
	return nil
}

// controllerResult judges the controller Deployment.
func controllerResult(r *checks.Report, dep *appsv1.Deployment) {
	name, key := "controller", dep.Namespace+"/"+dep.Name
	if dep.Name == "" {
		key = manifests.Namespace + "/" + manifests.ControllerName
	}
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	st := dep.Status
	version := versionText(dep.Labels[manifests.VersionLabel])
	switch {
	case want == 0:
		r.Add(name, false, "deployment %s is scaled to zero: nothing reconciles the Syncs", key)
	case !deploymentAvailable(dep) || st.AvailableReplicas < 1:
		r.Add(name, false, "deployment %s is not available (%d of %d replicas ready)", key, st.AvailableReplicas, want)
	case st.ObservedGeneration < dep.Generation || st.UpdatedReplicas < want:
		r.Add(name, false, "deployment %s is rolling out (%d of %d replicas updated)", key, st.UpdatedReplicas, want)
	default:
		r.Add(name, true, "deployment %s available (%d/%d replicas, %s)", key, st.AvailableReplicas, want, version)
	}
}

func deploymentAvailable(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			return c.Status == "True"
		}
	}
	return false
}

// checkSync passes a Sync that is Ready for its current spec, or suspended.
func checkSync(r *checks.Report, s *capstanv1.Sync) {
	name := fmt.Sprintf("sync %s/%s", s.Namespace, s.Name)
	ready := apimeta.FindStatusCondition(s.Status.Conditions, capstanv1.ReadyCondition)
	switch {
	case s.Spec.Suspend:
		r.Add(name, true, "suspended")
	case ready == nil:
		r.Add(name, false, "not reconciled yet")
	case ready.Status != metav1.ConditionTrue:
		r.Add(name, false, "%s: %s", ready.Reason, oneLine(ready.Message))
	case s.Status.ObservedGeneration != s.Generation:
		r.Add(name, false, "its latest spec is not reconciled yet")
	default:
		r.Add(name, true, "ready at %s", syncs.ShortRevision(s.Status.LastAppliedRevision))
	}
}

func oneLine(s string) string {
	const max = 300
	out := []rune(s)
	for i, r := range out {
		if r == '\n' {
			out[i] = ' '
		}
	}
	if len(out) > max {
		return string(out[:max-1]) + "…"
	}
	return string(out)
}

func versionText(v string) string {
	if v == "" {
		return "version unknown"
	}
	return "version " + v
}
