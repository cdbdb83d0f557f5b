#!/usr/bin/env bash
# Builds the test control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok, kwokctl) from the pinned tools modules into a
# cache outside the repository. A stamp of the tools modules' go.sum files makes
# a second run a no-op. Prints the bin directory on stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/cache.sh
. "$here/lib/cache.sh"
version=v1.37.2
bin="$cache_root/kube/$version/bin"
stamp_want=$(cat "$here"/tools/kube/go.sum "$here"/tools/etcd/go.sum "$here"/tools/kwok/go.sum | sha256sum | cut -c1-16)
cache_enter "$bin" "$stamp_want"

export CGO_ENABLED=0 GOFLAGS=-trimpath
build() { # module-dir output-name package
	echo "building $2" >&2
	(cd "$here/tools/$1" && go build -ldflags='-s -w' -o "$bin/$2" "$3")
}
build kube kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build kube kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler
build kube kubectl k8s.io/kubernetes/cmd/kubectl
build etcd etcd go.etcd.io/etcd/server/v3
build kwok kwok sigs.k8s.io/kwok/cmd/kwok
build kwok kwokctl sigs.k8s.io/kwok/cmd/kwokctl
cache_done "$bin" "$stamp_want"
