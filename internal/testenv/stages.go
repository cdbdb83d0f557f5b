package testenv

import "fmt"

// PodFault is how a simulated pod fails: the phase it stays in and the
// reason its containers wait with.
type PodFault struct {
	Phase    string
	Reason   string
	Message  string
	Restarts int
}

var (
	// ImagePullBackOff leaves pods Pending, their image never pulled.
	ImagePullBackOff = PodFault{Phase: "Pending", Reason: "ImagePullBackOff", Message: "Back-off pulling image", Restarts: 0}
	// CrashLoopBackOff leaves pods Running, their containers restarting.
	CrashLoopBackOff = PodFault{Phase: "Running", Reason: "CrashLoopBackOff", Message: "back-off restarting failed container", Restarts: 5}
)

// FaultStage returns a kwok Stage (for ClusterOptions.Stages) named name
// under which pods running image never become Ready, failing as fault
// says. Its weight makes kwok choose it over the default stages that make
// every pod Ready; its status has no time in it, so that applying it again
// changes nothing.
func FaultStage(name, image string, fault PodFault) string {
	return fmt.Sprintf(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: %s
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  weight: 1
  selector:
    matchExpressions:
    - key: .metadata.deletionTimestamp
      operator: DoesNotExist
    - key: .status.phase
      operator: In
      values: [Pending]
    - key: .spec.containers.[].image
      operator: In
      values: [%q]
  next:
    statusTemplate: |
      conditions:
      - status: "True"
        type: PodScheduled
      - status: "True"
        type: Initialized
      - status: "False"
        reason: ContainersNotReady
        type: Ready
      - status: "False"
        reason: ContainersNotReady
        type: ContainersReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        started: false
        restartCount: %d
        state:
          waiting:
            reason: %s
            message: %q
      {{ end }}
      phase: %s
`, name, image, fault.Restarts, fault.Reason, fault.Message, fault.Phase)
}
