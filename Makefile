# Capstan's build, test and check targets. `make help` lists them.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X github.com/capstan-gitops/capstan/internal/version.version=$(VERSION) -X github.com/capstan-gitops/capstan/internal/version.commit=$(COMMIT)
BIN     ?= bin
TOOLS   := go tool -modfile=hack/tools/dev/go.mod
TEST_TIMEOUT ?= 45m
FUZZTIME ?= 1m

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/capstan
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/capstan ./cmd/capstan

.PHONY: kube-bins
kube-bins: ## build the test control plane (etcd, kube-*, kwok) into the cache
	@./hack/kube-bins.sh

.PHONY: gitea
gitea: ## build the Gitea server the end-to-end test uses as a real git host (cgo sqlite) into the cache
	@./hack/gitea.sh

.PHONY: demo
demo: build ## watch a simulated cluster be bootstrapped from git, deleted and rebuilt identical, its SOPS-encrypted Secret included (no Docker)
	@bin=$$(./hack/kube-bins.sh); \
	CAPSTAN_KUBE_BIN=$$bin go run ./hack/demo --capstan $(BIN)/capstan

.PHONY: setup
setup: ## install what the tests need beyond Go and make (git, gcc; busybox-static where Docker answers)
	@./hack/setup.sh

.PHONY: test
test: setup ## everything CI runs: unit, integration against a real control plane, end-to-end
	@bin=$$(./hack/kube-bins.sh); \
	./hack/gitea.sh >/dev/null && \
	CAPSTAN_KUBE_BIN=$$bin go test -count=1 -timeout $(TEST_TIMEOUT) ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=2000x

.PHONY: e2e
e2e: setup ## end-to-end tests of the built binary
	@bin=$$(./hack/kube-bins.sh); \
	./hack/gitea.sh >/dev/null && \
	CAPSTAN_KUBE_BIN=$$bin go test -count=1 -timeout $(TEST_TIMEOUT) ./e2e/...

BENCH_RUNS  ?= 3
BENCH_LARGE ?=
BENCH_OUT   ?= $(BIN)/bench.json

.PHONY: bench
bench: build ## measure sync speed, memory and recovery vs a bare client (BENCH_RUNS=3, BENCH_LARGE=1 adds N=10000) into bin/bench.json, and the decryption of 100 SOPS Secrets
	@bin=$$(./hack/kube-bins.sh); \
	CAPSTAN_KUBE_BIN=$$bin BENCH_RUNS=$(BENCH_RUNS) BENCH_LARGE=$(BENCH_LARGE) BENCH_OUT=$(abspath $(BENCH_OUT)) \
	BENCH_BINARY=$(abspath $(BIN)/capstan) \
	go test -tags bench -count=1 -timeout 6h -run '^TestBench$$' -v ./e2e/bench/
	go test -count=1 -run '^$$' -bench '^BenchmarkDecrypt100Secrets$$' -benchtime 20x ./internal/build/

.PHONY: bench-ui
bench-ui: ## capstan ui against a real control plane: overview of 50 Syncs, Syncs of 1000 and 10000 objects (< 1 s each warm, < 80 MiB anonymous memory)
	@bin=$$(./hack/kube-bins.sh); \
	CAPSTAN_KUBE_BIN=$$bin go test -count=1 -timeout 30m -run '^$$' -bench '^BenchmarkUI$$' -benchtime 3x ./day2/ui/

.PHONY: fuzz
fuzz: ## run every fuzz test for FUZZTIME each: a duration or an exec count (default 1m; `make test` uses 2000x, see hack/fuzz.sh)
	./hack/fuzz.sh $(FUZZTIME)

.PHONY: generate
generate: ## regenerate deepcopy code and CRD manifests (controller-gen), and docs/api.md from the CRD
	./hack/generate.sh

.PHONY: lint
lint: ## go vet and staticcheck
	go vet ./...
	$(TOOLS) staticcheck ./...

.PHONY: verify
verify: ## fmt, vet, tidy, generate, then fail on any diff
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go vet ./...
	go mod tidy
	for d in hack/tools/*/; do (cd $$d && go mod tidy); done
	$(MAKE) --no-print-directory generate
	git diff --exit-code
