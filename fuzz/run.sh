#!/usr/bin/env bash
# Runs every fuzz target for N seconds (default 60), seeded from fuzz/seeds.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
for t in note_parse checkpoint_parse entry_decode bundle_verify witness_request tile_path key_parse policy_parse entry_validate; do
  mkdir -p "corpus/$t"
  cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
  echo "== $t (${secs}s)"
  cargo fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$secs" 2>&1 | grep -E '^(#[0-9]+ +DONE|Done|==[0-9]+== ERROR|SUMMARY)' || true
done
