#!/usr/bin/env bash
# Runs every test parley has. This is the README's test command and what CI
# runs (.ci/run), on a fresh machine: it installs what the tests need.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "formatting"
cargo fmt --all -- --check

step "build (once, before tests run in parallel)"
cargo build --workspace --all-targets --locked

step "test tools: nats-server (the broker parley bench compares against)"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
if ! command -v nats-server >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq </dev/null || true
  as_root apt-get install -y -qq --no-install-recommends nats-server </dev/null ||
    echo "nats-server could not be installed: the bench test checks that the peer section says so"
fi

step "test tools: Go and golang.org/x/mod (the independent C2SP witness and verifier the tests build)"
if ! command -v go >/dev/null 2>&1 || [ ! -d /usr/share/gocode/src/golang.org/x/mod/sumdb ]; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq </dev/null || true
  as_root apt-get install -y -qq --no-install-recommends golang-go golang-golang-x-mod-dev </dev/null
fi

step "tests"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

step "browser tests of the web console (Chromium + playwright-core)"
scripts/e2e.sh

step "fuzz targets build"
cargo build --manifest-path fuzz/Cargo.toml --locked --bins

step "all tests passed"
