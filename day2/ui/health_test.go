package ui

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/day2/syncs"
)

func TestPodHealth(t *testing.T) {
	t.Parallel()
	waiting := func(reason string) corev1.PodStatus {
		return corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: "web",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "details"}}}}}
	}
	tests := []struct {
		name   string
		status corev1.PodStatus
		want   badge
		reason string
	}{
		{"image missing", waiting("ImagePullBackOff"), degraded, "ImagePullBackOff"},
		{"crash loop", waiting("CrashLoopBackOff"), degraded, "CrashLoopBackOff"},
		{"starting", waiting("ContainerCreating"), progressing, ""},
		{"unschedulable", corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled,
			Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/3 nodes are available"}}}, degraded, "Unschedulable"},
		{"exited", corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "web",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}}, degraded, "OOMKilled"},
		{"failed", corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"}, degraded, "Evicted"},
		{"ready", corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "web", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}, healthy, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pod := &corev1.Pod{TypeMeta: typeMeta("v1", "Pod"), Status: tt.status}
			pod.Name, pod.Namespace = "web-1", "web"
			obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(pod)
			if err != nil {
				t.Fatal(err)
			}
			got, reason, _ := healthOf(&unstructured.Unstructured{Object: obj})
			if got != tt.want || reason != tt.reason {
				t.Errorf("health %v %q, want %v %q", got, reason, tt.want, tt.reason)
			}
		})
	}
}

func TestRollUp(t *testing.T) {
	t.Parallel()
	pod := &node{Kind: "Pod", Health: degraded, Reason: "ImagePullBackOff"}
	rs := &node{Kind: "ReplicaSet", Health: progressing, Children: []*node{pod}}
	dep := &node{Kind: "Deployment", Health: progressing, Children: []*node{rs, {Kind: "ReplicaSet", Health: healthy}}}
	rollUp(dep)
	if dep.Health != degraded || dep.Reason != "ImagePullBackOff" || rs.Health != degraded {
		t.Errorf("deployment %v %q, replica set %v: want both degraded by ImagePullBackOff", dep.Health, dep.Reason, rs.Health)
	}
}

func TestStateOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sum  syncs.Summary
		want badge
	}{
		{syncs.Summary{Ready: "True"}, stateReady},
		{syncs.Summary{Ready: "False", Reason: "HealthCheckFailed"}, stateFailed},
		{syncs.Summary{Ready: "False", Reason: "Progressing"}, stateProgressing},
		{syncs.Summary{Ready: "True", Reconciling: true}, stateProgressing},
		{syncs.Summary{Ready: "False", Suspended: true}, stateSuspended},
		{syncs.Summary{Ready: "Unknown"}, stateProgressing},
	}
	for _, tt := range tests {
		if got := stateOf(tt.sum); got != tt.want {
			t.Errorf("stateOf(%+v) = %v, want %v", tt.sum, got, tt.want)
		}
	}
}

func TestDependencyGraph(t *testing.T) {
	t.Parallel()
	row := func(name string, deps ...string) syncRow {
		return syncRow{Summary: syncs.Summary{Namespace: "ns", Name: name}, State: stateReady, DependsOn: deps}
	}
	g := dependencyGraph([]syncRow{row("app", "db", "net"), row("db", "net"), row("net"), row("loop-a", "loop-b"), row("loop-b", "loop-a"), row("orphan", "gone")})
	got := map[string]int{}
	for i, col := range g.Columns {
		for _, n := range col {
			got[n.Name] = i
		}
	}
	want := map[string]int{"net": 0, "db": 1, "app": 2, "orphan": 0}
	for name, col := range want {
		if got[name] != col {
			t.Errorf("%s in column %d, want %d (graph %+v)", name, got[name], col, g.Columns)
		}
	}
	if _, ok := got["loop-a"]; !ok {
		t.Error("a cycle lost its Syncs")
	}
	if g.Columns[0][len(g.Columns[0])-1].Name != "orphan" || g.Columns[0][len(g.Columns[0])-1].Missing[0] != "gone" || !g.HasEdges() {
		t.Errorf("missing dependency not shown: %+v", g.Columns[0])
	}
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

func TestRowOfPendingRequest(t *testing.T) {
	t.Parallel()
	ready := []metav1.Condition{{Type: capstanv1.ReadyCondition, Status: metav1.ConditionTrue, Reason: capstanv1.SucceededReason}}
	tests := []struct {
		name               string
		requested, handled string
		suspend            bool
		want               badge
		pending            bool
	}{
		{name: "handled", requested: "2026-01-02T03:04:05Z", handled: "2026-01-02T03:04:05Z", want: stateReady},
		{name: "pending", requested: "2026-01-02T03:04:05Z", handled: "2026-01-01T00:00:00Z", want: stateProgressing, pending: true},
		{name: "pending while suspended", requested: "2026-01-02T03:04:05Z", suspend: true, want: stateSuspended, pending: true},
		{name: "never requested", want: stateReady},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &capstanv1.Sync{}
			s.Spec.Suspend = tt.suspend
			s.Status.Conditions, s.Status.LastHandledReconcileAt = ready, tt.handled
			if tt.requested != "" {
				s.Annotations = map[string]string{capstanv1.ReconcileRequestAnnotation: tt.requested}
			}
			r := rowOf(s)
			if r.State != tt.want || (r.Requested != "") != tt.pending || (tt.pending && r.RequestedAt.IsZero()) {
				t.Errorf("state %v, requested %q at %v; want %v, pending %v", r.State, r.Requested, r.RequestedAt, tt.want, tt.pending)
			}
		})
	}
}
