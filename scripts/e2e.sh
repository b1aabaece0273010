#!/usr/bin/env bash
# Browser tests of the web console: Debian's Chromium driven by playwright-core.
# Installs what is missing (Chromium from Debian, playwright-core from npm; never
# a browser download), then runs `node --test` against target/debug/parley.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "installing Debian's chromium (browser tests need it)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq </dev/null
  if ! as_root apt-get install -y -qq --no-install-recommends chromium </dev/null; then
    # A half-configured dpkg from an earlier interrupted install: repair, retry.
    as_root apt-get install -y -qq -f </dev/null
    as_root apt-get install -y -qq --no-install-recommends chromium </dev/null
  fi
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing Debian's nodejs and npm (browser tests need them)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq </dev/null
  as_root apt-get install -y -qq --no-install-recommends nodejs npm </dev/null
fi

cd e2e
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --loglevel=error </dev/null
fi
PARLEY_BIN="${PARLEY_BIN:-$PWD/../target/debug/parley}" npm test --silent </dev/null
