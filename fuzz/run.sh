#!/usr/bin/env bash
# Runs every fuzz target for N seconds (default 60), seeded from fuzz/seeds.
# Exits 1 if a target crashes (the input is kept under fuzz/artifacts/) or
# if cargo-fuzz is missing: a fuzz run never passes by not running.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
command -v cargo-fuzz >/dev/null 2>&1 || {
  echo "error: cargo-fuzz is not installed (cargo install cargo-fuzz; stable works with -s none)" >&2
  exit 1
}
mkdir -p logs
failed=()
for t in note_parse checkpoint_parse entry_decode bundle_verify witness_request tile_path key_parse policy_parse entry_validate; do
  mkdir -p "corpus/$t"
  cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
  echo "== $t (${secs}s)"
  if cargo fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$secs" >"logs/$t.txt" 2>&1; then
    grep -E '^(#[0-9]+ +DONE|Done)' "logs/$t.txt" || true
  else
    grep -E '^(==[0-9]+== ERROR|SUMMARY|artifact_prefix|Test unit written)' "logs/$t.txt" || tail -20 "logs/$t.txt"
    failed+=("$t")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz targets that failed: ${failed[*]} (logs in fuzz/logs/)" >&2
  exit 1
fi
echo "every fuzz target ran ${secs}s without a crash"
