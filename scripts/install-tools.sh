#!/usr/bin/env bash
# Installs the pinned OPA CLI, Regal, opa-envoy-plugin and OPA's wasm conformance-case generator
# into .tools/bin (git-ignored), built from Go modules.
# A tool is rebuilt only when the binary there is not the pinned version (read with `go version -m`).
set -euo pipefail
cd "$(dirname "$0")/.."

OPA_VERSION=v1.22.3
REGAL_VERSION=v0.42.0
# v1.15.2-envoy, not the v1.19.1-envoy of TOOLCHAIN.md: the module proxy here serves nothing newer.
OPA_ENVOY_VERSION=v1.15.2-envoy
BIN="$PWD/.tools/bin"
mkdir -p "$BIN"

# has_version BINARY MODULE VERSION: the binary exists, was built from MODULE at VERSION, and is
# static (CGO_ENABLED=0), so that it also runs in a FROM-scratch container image.
has_version() {
  local info
  info=$(go version -m "$BIN/$1" 2>/dev/null) || return 1
  awk -v m="$2" '$1 == "mod" && $2 == m { print $3 }' <<<"$info" | grep -qx "$3" &&
    grep -q 'CGO_ENABLED=0' <<<"$info"
}

if has_version opa github.com/open-policy-agent/opa "$OPA_VERSION"; then
  echo "opa $OPA_VERSION already in $BIN"
else
  echo "building opa $OPA_VERSION (static) into $BIN"
  GOBIN="$BIN" CGO_ENABLED=0 go install "github.com/open-policy-agent/opa@$OPA_VERSION"
fi

if has_version regal github.com/open-policy-agent/regal "$REGAL_VERSION"; then
  echo "regal $REGAL_VERSION already in $BIN"
else
  echo "building regal $REGAL_VERSION into $BIN"
  (cd tools/regal && GOBIN="$BIN" CGO_ENABLED=0 go install github.com/open-policy-agent/regal)
fi

if has_version opa-envoy-plugin github.com/open-policy-agent/opa-envoy-plugin "$OPA_ENVOY_VERSION"; then
  echo "opa-envoy-plugin $OPA_ENVOY_VERSION already in $BIN"
else
  echo "building opa-envoy-plugin $OPA_ENVOY_VERSION (static) into $BIN"
  (cd tools/opa-envoy-plugin && GOBIN="$BIN" CGO_ENABLED=0 go install github.com/open-policy-agent/opa-envoy-plugin/cmd/opa-envoy-plugin)
fi

# OPA's own generator of its wasm conformance cases, from the same module as the CLI: it compiles
# the cases under v1/test/wasm/assets with the pinned compiler (test/wasm/conformance.test.ts).
if has_version wasm-rego-testgen github.com/open-policy-agent/opa "$OPA_VERSION"; then
  echo "wasm-rego-testgen $OPA_VERSION already in $BIN"
else
  echo "building wasm-rego-testgen $OPA_VERSION into $BIN"
  GOBIN="$BIN" CGO_ENABLED=0 go install "github.com/open-policy-agent/opa/v1/test/wasm/cmd/wasm-rego-testgen@$OPA_VERSION"
fi
