#!/usr/bin/env bash
# Runs wharf-core's cargo-fuzz targets (server-core/fuzz/, issue 13 point 9) one after another,
# each for a fixed time at the lowest CPU priority, and prints per target: when it ran, its
# runs, coverage, corpus size and crashes. Exits non-zero if any target found a crash.
# Not part of `npm test`. Needs the nightly toolchain and cargo-fuzz
# (`rustup toolchain install nightly`, `cargo install cargo-fuzz --locked`).
#
# Usage: bench/fuzz.sh [TARGET...] [--seconds N | --replay]
#   TARGET     resolve, range, conditional, hygiene, csv_cell (default: all)
#   --seconds  time per target (default 1200)
#   --replay   only run each target once over its committed seeds and its reproducers in
#              server-core/fuzz/regressions/ (seconds; a quick check that nothing regressed)
# Environment:
#   WHARF_FUZZ_SKIP   known findings to skip while their fix is pending, comma-separated:
#                     dot-symlink (issue 13 point 2), csv-separator (point 6)
#   WHARF_FUZZ_DIR    where the growing corpora, crash artifacts and logs go
#                     (default ~/.cache/wharf/fuzz); the committed seeds are never written to
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
ensure_rust

all=(resolve range conditional hygiene csv_cell)
targets=()
seconds=1200
replay=0
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --replay) replay=1; shift ;;
    -h|--help) sed -n 2,18p "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${all[@]}")
# libFuzzer reads -max_total_time=0 as "no limit".
[[ $seconds =~ ^[0-9]+$ ]] && ((seconds > 0)) || { echo "fuzz.sh: --seconds takes a positive number" >&2; exit 2; }

if ! cargo +nightly fuzz --help >/dev/null 2>&1; then
  echo "fuzz.sh: needs the nightly toolchain and cargo-fuzz:" >&2
  echo "  rustup toolchain install nightly && cargo install cargo-fuzz --locked" >&2
  exit 2
fi

fuzz_dir="$WHARF_ROOT/server-core/fuzz"
work="${WHARF_FUZZ_DIR:-$HOME/.cache/wharf/fuzz}"
target_dir="${WHARF_FUZZ_TARGET_DIR:-$HOME/.cache/wharf/fuzz-target}"
mkdir -p "$work"
# The fixtures (a site, a log folder) live in a scratch folder removed on exit.
scratch="$(mktemp -d "${TMPDIR:-/tmp}/wharf-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

cd "$fuzz_dir"
for target in "${targets[@]}"; do
  [[ -f fuzz_targets/$target.rs ]] || { echo "fuzz.sh: no target $target (have: ${all[*]})" >&2; exit 2; }
done
echo "building the fuzz targets..."
nice -n 19 cargo +nightly fuzz build --target-dir "$target_dir" >/dev/null 2>"$work/build.log" \
  || { cat "$work/build.log" >&2; exit 1; }

if ((replay)); then
  failed=0
  for target in "${targets[@]}"; do
    inputs=("corpus/$target"/seed-*)
    for reproducer in regressions/"$target"-*; do [[ -e $reproducer ]] && inputs+=("$reproducer"); done
    if TMPDIR="$scratch" nice -n 19 cargo +nightly fuzz run --target-dir "$target_dir" "$target" \
      "${inputs[@]}" -- -runs=1 >"$work/$target.replay.log" 2>&1; then
      echo "$target: ${#inputs[@]} inputs pass"
    else
      failed=1
      echo "$target: FAILS; see $work/$target.replay.log" >&2
      grep -E -m2 -A1 "panicked at" "$work/$target.replay.log" >&2 || true
    fi
  done
  exit "$failed"
fi

summary=()
crashed=0
for target in "${targets[@]}"; do
  corpus="$work/corpus/$target"
  artifacts="$work/artifacts/$target"
  log="$work/$target.log"
  mkdir -p "$corpus" "$artifacts"
  before=$(find "$artifacts" -type f | wc -l)
  started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  t0=$(date +%s)
  echo "fuzzing $target for ${seconds}s from $started (log: $log)"
  status=0
  # New inputs go to the first folder; the committed seeds are only read.
  TMPDIR="$scratch" nice -n 19 cargo +nightly fuzz run --target-dir "$target_dir" "$target" \
    "$corpus" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
  took=$(($(date +%s) - t0))
  after=$(find "$artifacts" -type f | wc -l)
  crashes=$((after - before))
  ((status == 0 || crashes > 0)) || crashes=1 # failed without an artifact: count it
  ((crashes == 0)) || crashed=1
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$last")
  summary+=("$(printf '%-12s %-21s %7ss %12s %6s %7s %12s %7s' "$target" "$started" "$took" "${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes")")
  if ((crashes)); then
    echo "  $target: $crashes crash(es); artifacts in $artifacts; see $log" >&2
    grep -E -m3 "panicked at|SUMMARY|ERROR" "$log" >&2 || true
  fi
done

printf '\n%-12s %-21s %8s %12s %6s %7s %12s %7s\n' target "start (UTC)" time runs cov ft corpus crashes
printf '%s\n' "${summary[@]}"
exit "$crashed"
