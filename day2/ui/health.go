package ui

import (
	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/capstan-gitops/capstan/internal/podstatus"
)

// badge is how a state shows: a CSS class for color, and an icon and a word
// that read without color.
type badge struct {
	Class, Icon, Label string
}

// The badges of objects, by health.
var (
	healthy     = badge{"ok", "♥", "Healthy"}
	progressing = badge{"wait", "◔", "Progressing"}
	degraded    = badge{"bad", "✗", "Degraded"}
	missing     = badge{"bad", "∅", "Missing"}
	unknown     = badge{"unknown", "?", "Unknown"}
)

// healthOf returns the badge, reason and message of an object by kstatus,
// and for a Pod the reason a person looks for (ImagePullBackOff,
// Unschedulable, CrashLoopBackOff, …).
func healthOf(u *unstructured.Unstructured) (badge, string, string) {
	if u.GetKind() == "Pod" && u.GetAPIVersion() == "v1" {
		pod := &corev1.Pod{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, pod); err == nil {
			if reason, msg, bad := podstatus.Trouble(pod); bad {
				return degraded, reason, msg
			}
		}
	}
	res, err := status.Compute(u)
	if err != nil {
		return unknown, "", err.Error()
	}
	switch res.Status {
	case status.CurrentStatus:
		return healthy, "", res.Message
	case status.InProgressStatus:
		return progressing, "", res.Message
	case status.FailedStatus:
		return degraded, failedReason(u), res.Message
	case status.NotFoundStatus:
		return missing, "", res.Message
	}
	return unknown, "", res.Message
}

// failedReason is the reason of the first False condition, if any.
func failedReason(u *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["status"] == "False" {
			if r, ok := m["reason"].(string); ok {
				return r
			}
		}
	}
	return "Failed"
}
