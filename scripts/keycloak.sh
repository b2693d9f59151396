#!/usr/bin/env bash
# Fetches Keycloak (the keycloak-quarkus-dist archive, a Maven artifact) into .tools/keycloak
# (git-ignored) and unpacks it there, for the identity-provider suites (test/identity/). Maven keeps
# its own copy in ~/.m2, so a fresh clone unpacks without downloading again. Idempotent.
# Needs Java 17+ and Maven: under CI=true they are installed from Debian's packages when missing
# (and a failure to install fails the run); elsewhere the suites skip, saying so.
set -euo pipefail
cd "$(dirname "$0")/.."

KEYCLOAK_VERSION=26.5.6
DIR=.tools/keycloak
HOME_DIR="$DIR/keycloak-$KEYCLOAK_VERSION"
ARCHIVE="$DIR/keycloak-quarkus-dist-$KEYCLOAK_VERSION.tar.gz"

if [ -x "$HOME_DIR/bin/kc.sh" ]; then
  echo "keycloak $KEYCLOAK_VERSION already in $HOME_DIR"
  exit 0
fi

missing=()
command -v java >/dev/null 2>&1 || missing+=(java)
command -v mvn >/dev/null 2>&1 || missing+=(mvn)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${CI:-}" = true ]; then
    echo "keycloak: installing ${missing[*]} from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq openjdk-17-jre-headless maven >/dev/null
  else
    echo "keycloak: ${missing[*]} not found (Debian: apt-get install -y openjdk-17-jre-headless maven); the Keycloak suites will skip"
    exit 0
  fi
fi

mkdir -p "$DIR"
if [ ! -s "$ARCHIVE" ]; then
  echo "fetching keycloak-quarkus-dist $KEYCLOAK_VERSION with Maven into $DIR"
  mvn -q -B dependency:copy "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:tar.gz" "-DoutputDirectory=$DIR"
fi
tar -xzf "$ARCHIVE" -C "$DIR"
test -x "$HOME_DIR/bin/kc.sh"
echo "keycloak $KEYCLOAK_VERSION unpacked in $HOME_DIR"
