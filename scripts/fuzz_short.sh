#!/usr/bin/env bash
# A short coverage-guided run of each fuzz target: libFuzzer through cargo-fuzz, which
# needs nightly Rust (installed here when missing, with cargo-fuzz). CI runs it after the
# tests; a longer run is the same script with a larger FUZZ_SECONDS (see fuzz/README.md).
#
# Each target starts from the committed corpus (fuzz/corpus/<target>) and writes the inputs
# it finds new coverage with to a scratch directory, so a run never changes the checkout.
# A panic, an abort, a run past 10 s on one input or over 2 GB of memory is a finding:
# libFuzzer saves the input under fuzz/libfuzzer/artifacts/<target>/ and exits non-zero,
# and so does this script.
#
# usage: FUZZ_SECONDS=30 scripts/fuzz_short.sh [target ...]   (default: all four)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-30}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sql wal page d_log)

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "nightly Rust missing: installing it (the fuzzers' sanitizer coverage needs it)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz missing: installing it"
  cargo install --locked cargo-fuzz
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
  echo "== fuzz $target for ${seconds}s"
  mkdir -p "$scratch/$target"
  log="$scratch/$target.log"
  if ! cargo +nightly fuzz run --fuzz-dir fuzz/libfuzzer -s none -O "$target" \
    "$scratch/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz $target found a failing input (above)"
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|new_units_added)' "$log" || tail -n 5 "$log"
done
