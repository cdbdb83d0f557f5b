#!/usr/bin/env bash
# Builds the Gitea server pinned in hack/tools/gitea into a cache outside the
# repository, for the end-to-end test that uses it as a real git host (push,
# webhook, commit status). Gitea is built as its Makefile does for sqlite:
# cgo with the sqlite and sqlite_unlock_notify tags. Without the bindata tag
# Gitea reads its templates and options from disk, so they are copied from
# the module's source next to the binary: STATIC_ROOT_PATH=<bin>/static.
# A stamp of the module's go.sum makes a second run a no-op. Prints the bin
# directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/cache.sh
. "$here/lib/cache.sh"
bin="$cache_root/gitea/bin"
stamp_want=$(sha256sum <"$here/tools/gitea/go.sum" | cut -c1-16)
cache_enter "$bin" "$stamp_want"
command -v gcc >/dev/null || {
	echo "gitea.sh: gcc is needed (Gitea's sqlite driver uses cgo)" >&2
	exit 1
}
cd "$here/tools/gitea"
version=$(go list -m -f '{{.Version}}' code.gitea.io/gitea)
src=$(go list -m -f '{{.Dir}}' code.gitea.io/gitea)
[[ -n $src ]] || src=$(go mod download -json code.gitea.io/gitea | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
tags="sqlite sqlite_unlock_notify"
echo "building gitea $version (this takes a while)" >&2
CGO_ENABLED=1 GOFLAGS=-trimpath go build -tags "$tags" \
	-ldflags "-s -w -X 'main.Version=${version#v}' -X 'main.Tags=$tags'" \
	-o "$bin/gitea" code.gitea.io/gitea
rm -rf "$bin/static"
mkdir -p "$bin/static"
cp -r "$src/templates" "$src/options" "$src/public" "$bin/static/"
chmod -R u+w "$bin/static"
cache_done "$bin" "$stamp_want"
