# The commands a person runs. `make demo` and `make test` install what they need by themselves.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TOOLS   := .tools/bin
OPA     := $(TOOLS)/opa
REGAL   := $(TOOLS)/regal
BUNDLE  := bundles/stepup.tar.gz
CLI     := dist/cli.js
SRC     := $(shell find src -name '*.ts') package.json tsconfig.json scripts/build.mjs
REGO    := $(shell find rego -name '*.rego' -o -name '*.json')
REGO_COVERAGE_MIN := 95

.PHONY: help setup tools system docker keycloak build docs lint api test test-rego test-ts test-package demo evaluate bench bench-quick clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

setup: node_modules/.package-lock.json tools ## install Node packages and the pinned OPA, Regal and opa-envoy-plugin

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

tools:
	scripts/install-tools.sh

# Debian's redis-server, nginx and openssl, which suites start themselves (scripts/system-packages.sh).
system:
	scripts/system-packages.sh

# The Docker engine for the OPA sidecar's container (tests, bench); skipped when a developer opts
# into a plain-process sidecar with STEPUP_SIDECAR=process (which CI refuses).
docker:
	@if [ "$${STEPUP_SIDECAR:-container}" = container ]; then scripts/docker-engine.sh; fi

# Keycloak for the identity-provider suites, fetched with Maven into .tools/keycloak
# (scripts/keycloak.sh); without Java or Maven it says so and the suite skips, except under CI=true.
keycloak:
	scripts/keycloak.sh

build: setup $(CLI) $(BUNDLE) ## build the CLI, the library and the bundle

$(CLI): $(SRC) node_modules/.package-lock.json
	npm run --silent build

$(BUNDLE): $(REGO) $(CLI) | tools
	node $(CLI) bundle build --out $(BUNDLE)

docs: setup ## regenerate schemas/, docs/scenarios.md and the contracts' generated code (src/*/generated/) from the contracts and the scenarios
	npx tsx scripts/docs.ts

lint: setup $(CLI) ## opa fmt, opa check --strict with the generated schema, regal, tsc, the layer order, the API report
	@test -z "$$($(OPA) fmt --list rego)" || { echo "opa fmt would change:"; $(OPA) fmt --list rego; exit 1; }
	$(OPA) check --strict --schema schemas/opa/input.json rego
	$(REGAL) lint rego
	npx tsc --noEmit -p tsconfig.test.json
	npx depcruise src --config .dependency-cruiser.cjs
	@npx api-extractor run >.tools/api-extractor.log 2>&1 || { cat .tools/api-extractor.log; echo "The public API differs from etc/stepup.api.md: review the diff, then 'make api'."; exit 1; }

api: $(CLI) ## write etc/stepup.api.md from the public entry point after a deliberate API change
	npx api-extractor run --local

test: build lint test-rego test-ts test-package ## every test: Rego with coverage, the TypeScript suites, the packed package

test-rego: tools
	$(OPA) test --coverage rego > .tools/rego-coverage.json || { $(OPA) test rego; exit 1; }
	node scripts/check-coverage.mjs .tools/rego-coverage.json $(REGO_COVERAGE_MIN)

test-ts: build system docker keycloak
	npx vitest run

# The package as users install it: npm pack, fresh ESM/CommonJS/TypeScript apps, README example, CLI.
test-package: build
	node test/package/run.mjs

demo: build ## explained decisions for every scenario in scenarios/
	node $(CLI) scenarios --explain

evaluate: build ## decision quality: the project's labelled stream replayed through the SDK, prompts and catches
	@mkdir -p .tools/evaluation
	node $(CLI) generate-stream --seed 1 --out .tools/evaluation/stream.ndjson
	node $(CLI) evaluate .tools/evaluation/stream.ndjson --out .tools/evaluation/latest.md

clean: ## remove what the build wrote (keeps .tools)
	rm -rf dist bundles coverage

bench: build system docker ## benchmarks: medians, p99s and ratios measured in one run, written as Markdown and JSON
	npx tsx bench/run.ts

bench-quick: build system docker ## every suite end to end in about a minute (CI runs it): checks the harness, the figures mean nothing
	BENCH_QUICK=1 BENCH_OUT=.tools/bench-quick npx tsx bench/run.ts

