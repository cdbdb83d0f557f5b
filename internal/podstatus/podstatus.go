// Package podstatus says why a pod cannot run (ImagePullBackOff,
// CrashLoopBackOff, Unschedulable, …), the reason a person looks for when a
// workload never becomes ready. The UI shows it on a pod; the controller
// names it as the root cause of a failed health check.
package podstatus

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// benign are the waiting reasons of a container that is starting normally.
var benign = map[string]bool{"": true, "ContainerCreating": true, "PodInitializing": true}

// Trouble reports why a pod cannot run, if it cannot: a failed pod, an
// unschedulable one, a container waiting for a reason other than a normal
// start, or a container that exited with an error.
func Trouble(p *corev1.Pod) (reason, message string, bad bool) {
	if p.Status.Phase == corev1.PodFailed {
		return orWord(p.Status.Reason, "Failed"), p.Status.Message, true
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return c.Reason, c.Message, true
		}
	}
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		if w := cs.State.Waiting; w != nil && !benign[w.Reason] {
			return w.Reason, containerMessage(cs.Name, w.Message), true
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			return orWord(t.Reason, "Error"), containerMessage(cs.Name, fmt.Sprintf("exit code %d %s", t.ExitCode, t.Message)), true
		}
	}
	return "", "", false
}

func containerMessage(name, msg string) string {
	return strings.TrimSpace("container " + name + ": " + msg)
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
