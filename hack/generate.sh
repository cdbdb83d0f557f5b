#!/usr/bin/env bash
# Generates the deepcopy functions of api/... and the CRD manifest
# that components/manifests embeds, with the controller-gen pinned in
# hack/tools/dev/go.mod. Run from anywhere; `make generate` calls it.
set -euo pipefail

cd "$(dirname "$0")/.."

go tool -modfile=hack/tools/dev/go.mod controller-gen \
	object:headerFile=hack/boilerplate.go.txt \
	crd:crdVersions=v1 \
	paths=./api/... \
	output:crd:artifacts:config=components/manifests/crd

# docs/api.md, the Sync API reference, from the CRD just generated.
go run ./hack/apidoc
