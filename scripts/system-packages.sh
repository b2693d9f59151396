#!/usr/bin/env bash
# Installs the Debian packages that tests and benchmarks start themselves, when missing:
#   redis-server — the behaviour-store, fail-closed and round-trip suites and the signals benchmark
#                  start their own on a free loopback port;
#   nginx-light  — serves bundles to the fleet test, which starts and stops its own instance;
#   openssl      — issues the mTLS peer certificates of the Envoy tests;
#   prometheus   — for promtool, which checks and unit-tests the alert rules in ops/ (no server is started);
#   chromium     — the headless browser the review page's test drives (playwright-core, /usr/bin/chromium).
# Idempotent; installing must not leave nginx's own service running.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || missing+=(nginx-light)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing ${missing[*]} from Debian's packages"
had_pid=$([ -e /run/nginx.pid ] && echo yes || echo no)
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ "$had_pid" = no ] && [ -e /run/nginx.pid ]; then /usr/sbin/nginx -s quit || true; fi
