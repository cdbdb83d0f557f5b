#!/usr/bin/env bash
# Installs what `make test` needs beyond Go and make, once: `make test` and
# `make e2e` run it first, so that the README's command works on a fresh
# machine.
#
#   git             the test git server and the examples (always)
#   gcc             cgo for the sqlite driver of the Gitea server that an
#                   end-to-end test uses as a real git host (hack/gitea.sh)
#   chromium        the browser e2e test of `capstan ui` (TestUIInABrowser,
#                   driven with chromedp; with fonts-dejavu-core for its
#                   screenshots; CAPSTAN_CHROMIUM names another browser)
#   busybox-static  the k3d end-to-end test's stand-in node image (only
#                   where a Docker engine answers; that test is skipped
#                   elsewhere; CAPSTAN_BUSYBOX names another static busybox)
#
# Missing packages are installed with apt-get when this runs as root on a
# system with apt (`apt-get update` first, only then); otherwise it names
# them and fails. The control-plane binaries and Gitea are built afterwards
# by hack/kube-bins.sh and hack/gitea.sh, into ~/.cache/capstan.
set -euo pipefail

need=()
command -v go >/dev/null || {
	echo "setup: Go 1.26 is required: https://go.dev/dl/" >&2
	exit 1
}
command -v git >/dev/null || need+=(git)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
if [[ -z ${CAPSTAN_CHROMIUM:-} ]] && ! command -v chromium >/dev/null; then
	need+=(chromium fonts-dejavu-core)
fi

# docker_answers reports whether a Docker engine answers, as the k3d test
# checks it (the CLI if present, else the engine's socket).
docker_answers() {
	if command -v docker >/dev/null; then
		timeout 10 docker info >/dev/null 2>&1
		return
	fi
	local sock="${DOCKER_HOST:-unix:///var/run/docker.sock}"
	[[ $sock == unix://* && -S ${sock#unix://} ]]
}

# has_static_busybox reports whether the k3d test finds a static busybox.
has_static_busybox() {
	[[ -n ${CAPSTAN_BUSYBOX:-} ]] && return 0
	if command -v dpkg-query >/dev/null; then
		[[ $(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null) == "install ok installed" ]]
		return
	fi
	[[ -x /bin/busybox || -x /usr/bin/busybox ]]
}

if docker_answers && ! has_static_busybox; then
	need+=(busybox-static)
fi

if ((${#need[@]} == 0)); then
	exit 0
fi
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
	echo "setup: make test needs ${need[*]}: install them (as root, with your package manager), then run make test again" >&2
	exit 1
fi
echo "setup: installing ${need[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
