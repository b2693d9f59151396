#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine, for the container tests (testcontainers).
# Installs Debian's docker.io when dockerd is missing and starts it with no bridge network:
# containers run with the host's network and listen on loopback only. Idempotent: an engine that
# already answers is left alone. The engine's log goes to .tools/dockerd.log (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

if docker info >/dev/null 2>&1; then
  echo "docker engine already running"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "installing docker.io from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

mkdir -p .tools
echo "starting dockerd (--bridge=none --iptables=false)"
setsid dockerd --bridge=none --iptables=false --ip6tables=false >.tools/dockerd.log 2>&1 < /dev/null &

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker engine ready"
    exit 0
  fi
  sleep 1
done
echo "dockerd did not come up; last lines of .tools/dockerd.log:" >&2
tail -n 20 .tools/dockerd.log >&2
exit 1
