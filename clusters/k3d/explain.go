package k3d

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/capstan-gitops/capstan/clusters"
)

// The hints for the causes a k3d cluster fails on, shared by the preflight
// (Probe) and by explain, for failures the preflight could not foresee.
const (
	// PodmanDocs is k3d's page on engines that run rootless (Podman,
	// rootless Docker) and what they need for k3d's privileged nodes.
	PodmanDocs = "https://k3d.io/stable/usage/advanced/podman/"

	hintPrivileged = "k3d runs its nodes as privileged containers, and this engine refuses them (rootless Docker, Podman, " +
		"and CI runners or sandboxes without all capabilities do): see " + PodmanDocs + " for what k3d needs there, " +
		"or use --kubeconfig with an existing cluster"
	hintDisk   = "Docker is out of disk space: free some (`docker system prune`) and run the same command again"
	hintMemory = "Docker is out of memory: stop other containers or give Docker more memory, and run the same command again"
)

// hintImage says how to get an image onto a machine that cannot pull it;
// the same for every image, so that it is said once.
const hintImage = "where the image can be pulled, `docker save IMAGE -o image.tar`, and here `docker load -i image.tar`; " +
	"or pass --k3s-image with a k3s image Docker has (for k3d's helper images, set " +
	"K3D_IMAGE_TOOLS and K3D_IMAGE_LOADBALANCER)"

// hintPort says how to free a host port.
func hintPort(port string) string {
	return fmt.Sprintf("stop what listens on port %s, or choose another port in --k3d-config (kubeAPI.hostPort, ports); "+
		"without one, capstan picks a free API port", port)
}

var (
	// lastPort finds ":PORT" before Docker's words for a taken port.
	lastPort = regexp.MustCompile(`:([0-9]{1,5})\b`)
	// pullFailed is k3d's error for an image it could not pull.
	pullFailed = regexp.MustCompile(`failed to pull (?:the )?image '([^']+)'`)
)

// takenPort finds the port in Docker's error for a host port in use.
func takenPort(msg string) (string, bool) {
	i := strings.Index(msg, "port is already allocated")
	if i < 0 {
		i = strings.Index(msg, "address already in use")
	}
	if i < 0 {
		return "", false
	}
	m := lastPort.FindAllStringSubmatch(msg[:i], -1)
	if len(m) == 0 {
		return "?", true
	}
	return m[len(m)-1][1], true
}

// explain turns the error of a failed cluster creation into one line
// that names the cause, with what to do, when the cause is known. The
// full error stays underneath, for --verbose.
func explain(name string, err error) error {
	var ce *clusters.Error
	if err == nil || errors.As(err, &ce) {
		return err
	}
	msg := err.Error()
	port, portInUse := takenPort(msg)
	summary, hint := "", ""
	switch {
	case strings.Contains(msg, "unable to apply caps") || strings.Contains(msg, "unable to apply bounding set"):
		summary, hint = "Docker refused to start a privileged container for k3d cluster "+name, hintPrivileged
	case strings.Contains(msg, "no space left on device"):
		summary, hint = "Docker has no disk space left for k3d cluster "+name, hintDisk
	case strings.Contains(msg, "cannot allocate memory") || strings.Contains(msg, "out of memory"):
		summary, hint = "Docker has no memory left for k3d cluster "+name, hintMemory
	case portInUse:
		summary, hint = fmt.Sprintf("port %s is taken: k3d cluster %s cannot publish it", port, name), hintPort(port)
	case pullFailed.MatchString(msg):
		ref := pullFailed.FindStringSubmatch(msg)[1]
		summary, hint = fmt.Sprintf("image %s cannot be pulled for k3d cluster %s", ref, name), hintImage
	default:
		return err
	}
	return &clusters.Error{Summary: summary, Next: hint, Err: err}
}
