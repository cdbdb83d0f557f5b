#!/usr/bin/env bash
# Builds the helm and kustomize CLIs pinned in hack/tools/helm into a cache
# outside the repository, for the tests that compare Capstan's in-process
# chart rendering with `kustomize build --enable-helm`. A stamp of the
# module's go.sum makes a second run a no-op. Prints the bin directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/cache.sh
. "$here/lib/cache.sh"
bin="$cache_root/helm-tools/bin"
stamp_want=$(sha256sum <"$here/tools/helm/go.sum" | cut -c1-16)
cache_enter "$bin" "$stamp_want"
export CGO_ENABLED=0 GOFLAGS=-trimpath
build() { # output-name package
	echo "building $1" >&2
	(cd "$here/tools/helm" && go build -ldflags='-s -w' -o "$bin/$1" "$2")
}
build helm helm.sh/helm/v4/cmd/helm
build kustomize sigs.k8s.io/kustomize/kustomize/v5
cache_done "$bin" "$stamp_want"
