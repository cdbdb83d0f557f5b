package check

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/checks"
	"github.com/capstan-gitops/capstan/internal/golden"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
	"github.com/capstan-gitops/capstan/internal/output"
)

// healthy and failing are reports as Installed and Pre build them.
func healthy() checks.Report {
	var r checks.Report
	r.Add("crd syncs.capstan.dev", true, "established, serves capstan.dev/v1 (version v0.3.0)")
	r.Add("controller", true, "deployment capstan-system/capstan-controller available (1/1 replicas, version v0.3.0)")
	checkSync(&r, sync("capstan-system", metav1.ConditionTrue, "Succeeded", "applied revision main@sha1:0123456789abcdef0123456789abcdef01234567", false))
	checkSync(&r, sync("blog", metav1.ConditionFalse, "Suspended", "", true))
	return r.Finish()
}

func failing() checks.Report {
	var r checks.Report
	r.Add("crd syncs.capstan.dev", true, "established, serves capstan.dev/v1 (version v0.3.0)")
	r.Add("controller", false, "deployment capstan-system/capstan-controller is scaled to zero: nothing reconciles the Syncs")
	checkSync(&r, sync("shop", metav1.ConditionFalse, "HealthCheckFailed", "waiting for health:\nDeployment/shop/api not ready", false))
	return r.Finish()
}

func sync(name string, ready metav1.ConditionStatus, reason, msg string, suspended bool) *capstanv1.Sync {
	return &capstanv1.Sync{
		ObjectMeta: metav1.ObjectMeta{Namespace: "capstan-system", Name: name, Generation: 1},
		Spec:       capstanv1.SyncSpec{Suspend: suspended},
		Status: capstanv1.SyncStatus{ObservedGeneration: 1, LastAppliedRevision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
			Conditions: []metav1.Condition{{Type: capstanv1.ReadyCondition, Status: ready, Reason: reason, Message: msg}}},
	}
}

func TestPrintGolden(t *testing.T) {
	t.Parallel()
	tests := map[string]checks.Report{"healthy": healthy(), "failing": failing()}
	for name, rep := range tests {
		for _, format := range []string{output.Text, output.JSON} {
			t.Run(name+"-"+format, func(t *testing.T) {
				t.Parallel()
				var b bytes.Buffer
				if err := Print(&b, format, rep); err != nil {
					t.Fatal(err)
				}
				golden.Assert(t, "check-"+name+"-"+format, b.Bytes())
			})
		}
	}
}

func TestReportErr(t *testing.T) {
	t.Parallel()
	if err := Err(healthy(), false); err != nil {
		t.Errorf("healthy report: %v", err)
	}
	err := Err(failing(), false)
	var ke *kubeclient.Error
	if err == nil || err.Error() != "2 of 3 checks failed" || !errors.As(err, &ke) || !strings.Contains(ke.Hint(), "logs") {
		t.Errorf("failing report: %v", err)
	}
}

func TestCheckController(t *testing.T) {
	t.Parallel()
	available := []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}}
	tests := []struct {
		name string
		dep  appsv1.Deployment
		ok   bool
		want string
	}{
		{name: "available", ok: true, want: "available (1/1 replicas, version v1)", dep: appsv1.Deployment{
			Spec:   appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)},
			Status: appsv1.DeploymentStatus{AvailableReplicas: 1, UpdatedReplicas: 1, Conditions: available}}},
		{name: "scaled to zero", want: "is scaled to zero", dep: appsv1.Deployment{
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](0)}, Status: appsv1.DeploymentStatus{Conditions: available}}},
		{name: "unavailable", want: "is not available (0 of 1 replicas ready)", dep: appsv1.Deployment{
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)}}},
		{name: "rolling out", want: "is rolling out (0 of 1 replicas updated)", dep: appsv1.Deployment{
			Spec:   appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)},
			Status: appsv1.DeploymentStatus{AvailableReplicas: 1, Conditions: available}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dep := tt.dep
			dep.Labels = map[string]string{"app.kubernetes.io/version": "v1"}
			var r checks.Report
			controllerResult(&r, &dep)
			if got := r.Checks[0]; got.OK != tt.ok || !strings.Contains(got.Message, tt.want) {
				t.Errorf("check = %+v, want ok=%v and %q", got, tt.ok, tt.want)
			}
		})
	}
}
