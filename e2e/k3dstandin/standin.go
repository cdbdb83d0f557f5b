// Package k3dstandin builds the stand-in images the e2e tests give k3d on
// a Docker engine that cannot pull: a node image under the k3s image name,
// the k3d-tools image and the k3d-proxy load balancer image. They are test
// fixtures, never shipped, and only as faithful as the tests need:
//
//   - node: FROM scratch with busybox as /bin/sh and its applets, the
//     control-plane binaries under /bin/aux, and /bin/k3s (package
//     ./k3s), which runs a real API server with kwok nodes and prints the
//     lines k3d waits for; it listens on every Service's node ports and
//     relays them to the host:port of the Service's EndpointAnnotation (its
//     pods run nowhere); /bin/ctr records image imports in
//     /var/lib/standin/images.txt (RecordFile).
//   - tools: /app/k3d-tools (package ./tools), which only waits for `noop`.
//   - proxy: /bin/k3d-proxy (package ./proxy), a TCP forwarder that reads
//     k3d's /etc/confd/values.yaml.
//
// Images are built through the Docker API from a build context assembled
// here, labelled with the hash of that context, and not rebuilt while an
// image with that tag and label exists. k3d's entrypoint fixes (K3D_FIX_*)
// must be off for these images: they need iptables and more.
package k3dstandin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/docker/docker/client"
)

// RecordFile is where the node image's ctr lists the tags it imported, one a line.
const RecordFile = "/var/lib/standin/images.txt"

// EndpointAnnotation on a Service names the host:port the stand-in server
// node relays the Service's node ports to, in place of the endpoints of
// pods that kwok only pretends to run: a test runs the workload on the
// host and annotates its Service.
const EndpointAnnotation = "k3dstandin.capstan.io/endpoint"

// HashLabel is the image label holding the hash of its build context.
const HashLabel = "io.capstan.e2e.standin-hash"

// FixesOff is the environment that turns k3d's entrypoint fixes off, as
// the stand-in node image needs.
func FixesOff() []string {
	return []string{"K3D_FIX_DNS=false", "K3D_FIX_MOUNTS=false", "K3D_FIX_CGROUPV2=false"}
}

// Options name the images and where their ingredients are.
type Options struct {
	// NodeImage, ToolsImage and ProxyImage are the exact names k3d asks for.
	NodeImage, ToolsImage, ProxyImage string
	// KubeBinDir holds static linux etcd, kube-apiserver,
	// kube-controller-manager, kube-scheduler and kwok.
	KubeBinDir string
	// Busybox is a static busybox executable (Debian's busybox-static).
	Busybox string
}

// Result says how one image was obtained.
type Result struct {
	Image string
	// Built is false when an image with the same content hash was present.
	Built    bool
	Duration time.Duration
}

// Ensure builds the three images unless they are current.
func Ensure(ctx context.Context, cli *client.Client, opts Options) ([]Result, error) {
	work, err := os.MkdirTemp("", "k3dstandin-")
	if err != nil {
		return nil, fmt.Errorf("creating work dir: %w", err)
	}
	defer os.RemoveAll(work)
	specs := []struct {
		image string
		pkg   string
		ctx   func(bin string) buildContext
	}{
		{opts.NodeImage, "k3s", func(bin string) buildContext { return nodeContext(bin, opts) }},
		{opts.ToolsImage, "tools", toolsContext},
		{opts.ProxyImage, "proxy", proxyContext},
	}
	var results []Result
	for _, s := range specs {
		start := time.Now()
		bin := filepath.Join(work, s.pkg)
		if err := goBuild(ctx, "github.com/capstan-gitops/capstan/e2e/k3dstandin/"+s.pkg, bin); err != nil {
			return results, err
		}
		built, err := ensureImage(ctx, cli, s.image, s.ctx(bin), work)
		if err != nil {
			return results, fmt.Errorf("image %s: %w", s.image, err)
		}
		results = append(results, Result{Image: s.image, Built: built, Duration: time.Since(start)})
	}
	return results, nil
}

// goBuild builds a static linux executable of pkg; there is no Go
// library for the go command, so it is run.
func goBuild(ctx context.Context, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// busyboxApplets are linked to busybox in the node image: what k3d runs
// through `sh -c` and what a person debugging a node reaches for.
var busyboxApplets = []string{
	"sh", "ash", "cat", "cp", "mv", "rm", "ln", "mkdir", "rmdir", "chmod", "touch", "ls", "sed", "grep", "awk",
	"head", "tail", "tr", "wc", "cut", "sort", "tee", "find", "xargs", "echo", "printf", "test", "[", "true",
	"false", "sleep", "env", "ps", "kill", "mount", "umount", "hostname", "id", "uname", "date", "basename",
	"dirname", "readlink", "nslookup", "wget", "tar", "du", "df", "stat", "which",
}

func nodeContext(launcher string, opts Options) buildContext {
	c := buildContext{
		"Dockerfile": {data: []byte("FROM scratch\nCOPY rootfs/ /\n" +
			"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/bin/aux\n" +
			"ENTRYPOINT [\"/bin/k3s\"]\nCMD [\"agent\"]\n")},
		"rootfs/bin/k3s":     {src: launcher, mode: 0o755},
		"rootfs/bin/ctr":     {link: "k3s"},
		"rootfs/bin/busybox": {src: opts.Busybox, mode: 0o755},
	}
	for _, a := range busyboxApplets {
		c["rootfs/bin/"+a] = entry{link: "busybox"}
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} {
		c["rootfs/bin/aux/"+b] = entry{src: filepath.Join(opts.KubeBinDir, b), mode: 0o755}
	}
	for _, d := range []string{"etc/rancher/k3s", "output", "var/lib/rancher/k3s/server/manifests", "var/lib/standin", "var/log", "usr/bin", "sbin"} {
		c["rootfs/"+d] = entry{dir: true, mode: 0o755}
	}
	c["rootfs/tmp"] = entry{dir: true, mode: 0o1777}
	return c
}

func toolsContext(bin string) buildContext {
	return buildContext{
		"Dockerfile":           {data: []byte("FROM scratch\nCOPY rootfs/ /\nWORKDIR /app\nENTRYPOINT [\"/app/k3d-tools\"]\n")},
		"rootfs/app/k3d-tools": {src: bin, mode: 0o755},
		"rootfs/tmp":           {dir: true, mode: 0o1777},
	}
}

func proxyContext(bin string) buildContext {
	return buildContext{
		"Dockerfile":           {data: []byte("FROM scratch\nCOPY rootfs/ /\nENTRYPOINT [\"/bin/k3d-proxy\"]\n")},
		"rootfs/bin/k3d-proxy": {src: bin, mode: 0o755},
		"rootfs/etc/confd":     {dir: true, mode: 0o755},
		"rootfs/tmp":           {dir: true, mode: 0o1777},
	}
}
