package podstatus

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestTrouble(t *testing.T) {
	t.Parallel()
	waiting := func(reason string) corev1.PodStatus {
		return corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "why"}}},
		}}
	}
	for _, tc := range []struct {
		name   string
		status corev1.PodStatus
		reason string
		bad    bool
	}{
		{"running", corev1.PodStatus{Phase: corev1.PodRunning}, "", false},
		{"starting", waiting("ContainerCreating"), "", false},
		{"image pull", waiting("ImagePullBackOff"), "ImagePullBackOff", true},
		{"crash loop", waiting("CrashLoopBackOff"), "CrashLoopBackOff", true},
		{"failed", corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"}, "Evicted", true},
		{"unschedulable", corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable},
		}}, "Unschedulable", true},
		{"exited", corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}},
		}}, "Error", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reason, _, bad := Trouble(&corev1.Pod{Status: tc.status})
			if reason != tc.reason || bad != tc.bad {
				t.Errorf("Trouble = %q, %v; want %q, %v", reason, bad, tc.reason, tc.bad)
			}
		})
	}
}
