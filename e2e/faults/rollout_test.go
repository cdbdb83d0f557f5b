package faults

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// crashLoopStage is a kwok pod stage under which pods running image never
// become Ready: their containers crash-loop.
func crashLoopStage(image string) string {
	return testenv.FaultStage("capstan-faults-crash-loop", image, testenv.CrashLoopBackOff)
}

// TestCrashingControllerImageIsRolledBackByRevert commits a new image of
// the controller Deployment whose pods crash-loop (crashImage, made to crash
// by a kwok stage on the shared cluster), then `git revert`s that commit.
//
// Expected: the Deployment's rolling update (maxUnavailable 0, maxSurge 1)
// keeps the old pod running and Available the whole time; the Sync reports
// HealthCheckFailed for the new revision and keeps lastAppliedRevision at
// the old one; the revert is a new commit that restores the old manifest,
// after which the Deployment is Available again with the old image, the
// crashing pod is gone, and the pod that never stopped is the same one.
func TestCrashingControllerImageIsRolledBackByRevert(t *testing.T) {
	t.Parallel()
	e := shared.get(t)
	ns := e.cluster.Namespace(t)
	r := newRepo(t)
	good := controllerDeployment(t, manifests.DefaultImage("v0.1.0"))
	rev1 := r.commit(t, "install capstan v0.1.0", map[string]string{"capstan-system/controller.yaml": good})
	r.newSync(t, e.admin, ns, "capstan", func(s *capstanv1.SyncSpec) {
		s.Timeout = &metav1.Duration{Duration: 15 * time.Second}
		s.RetryInterval = &metav1.Duration{Duration: 2 * time.Second}
	})
	waitSync(t, e.admin, ns, "capstan", 90*time.Second, readyAt(rev1))
	old := controllerPods(t, e.admin)
	if len(old) != 1 || !podReady(old[0]) {
		t.Fatalf("want one Ready controller pod at v0.1.0, got %s", describePods(old))
	}

	rev2 := r.commit(t, "upgrade capstan to a crashing image", map[string]string{"capstan-system/controller.yaml": controllerDeployment(t, crashImage)})
	requestSync(t, e.admin, ns, "capstan")
	s := waitSync(t, e.admin, ns, "capstan", 90*time.Second, func(s *capstanv1.Sync) bool {
		return failedWith(capstanv1.HealthCheckFailedReason)(s) && s.Status.LastAttemptedRevision == rev2
	})
	t.Logf("the crashing image is reported: %s", tail(readyMessage(s), 300))
	if s.Status.LastAppliedRevision != rev1 {
		t.Errorf("lastAppliedRevision = %s, want the last good %s", s.Status.LastAppliedRevision, rev1)
	}
	dep := controllerDeploymentStatus(t, e.admin)
	if img := dep.Spec.Template.Spec.Containers[0].Image; img != crashImage {
		t.Errorf("the Deployment runs %s, want the committed %s", img, crashImage)
	}
	if dep.Status.AvailableReplicas < 1 {
		t.Errorf("no controller pod is available during the bad rollout: %+v", dep.Status)
	}
	pods := controllerPods(t, e.admin)
	if !stillRunning(pods, old[0]) {
		t.Errorf("the old controller pod %s did not keep running: %s", old[0].Name, describePods(pods))
	}
	if !anyCrashing(pods) {
		t.Errorf("no pod of the new image is crash-looping: %s", describePods(pods))
	}

	rev3 := r.commit(t, "Revert \"upgrade capstan to a crashing image\"", map[string]string{"capstan-system/controller.yaml": good})
	s = waitSync(t, e.admin, ns, "capstan", 2*time.Minute, readyAt(rev3))
	dep = controllerDeploymentStatus(t, e.admin)
	if img := dep.Spec.Template.Spec.Containers[0].Image; img != manifests.DefaultImage("v0.1.0") {
		t.Errorf("after the revert the Deployment runs %s", img)
	}
	pods = waitPods(t, e.admin, func(pods []corev1.Pod) bool { return len(pods) == 1 })
	if !stillRunning(pods, old[0]) {
		t.Errorf("after the revert the controller pod is not the one that ran all along: %s", describePods(pods))
	}
	t.Logf("reverted: %s; Deployment %d/%d available", describe(s), dep.Status.AvailableReplicas, dep.Status.Replicas)
}

// controllerDeployment is the manifest of Capstan's controller Deployment
// with image, as bootstrap writes it to git.
func controllerDeployment(t *testing.T, image string) string {
	t.Helper()
	opts := manifests.DefaultOptions("v0.1.0")
	opts.Image = image
	objs, err := manifests.Render(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			b, err := yaml.Marshal(o.Object)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatal("the rendered components hold no Deployment")
	return ""
}

func controllerDeploymentStatus(t *testing.T, c client.Client) *appsv1.Deployment {
	t.Helper()
	dep := &appsv1.Deployment{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: manifests.Namespace, Name: manifests.ControllerName}, dep); err != nil {
		t.Fatalf("reading the controller Deployment: %v", err)
	}
	return dep
}

// controllerPods lists the pods of the controller Deployment that are not
// being deleted.
func controllerPods(t *testing.T, c client.Client) []corev1.Pod {
	t.Helper()
	list := &corev1.PodList{}
	if err := c.List(t.Context(), list, client.InNamespace(manifests.Namespace), client.MatchingLabels(manifests.Selector())); err != nil {
		t.Fatalf("listing controller pods: %v", err)
	}
	var pods []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			pods = append(pods, p)
		}
	}
	return pods
}

func waitPods(t *testing.T, c client.Client, cond func([]corev1.Pod) bool) []corev1.Pod {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		pods := controllerPods(t, c)
		if cond(pods) {
			return pods
		}
		if time.Now().After(deadline) {
			t.Fatalf("controller pods did not settle: %s", describePods(pods))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// stillRunning reports whether pod old is among pods, same UID, and Ready.
func stillRunning(pods []corev1.Pod, old corev1.Pod) bool {
	for _, p := range pods {
		if p.UID == old.UID {
			return podReady(p)
		}
	}
	return false
}

func anyCrashing(pods []corev1.Pod) bool {
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Image == crashImage && cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" {
				return true
			}
		}
	}
	return false
}

func describePods(pods []corev1.Pod) string {
	var parts []string
	for _, p := range pods {
		parts = append(parts, fmt.Sprintf("%s(%s image=%s ready=%t phase=%s)", p.Name, p.UID, p.Spec.Containers[0].Image, podReady(p), p.Status.Phase))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
