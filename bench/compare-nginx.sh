#!/usr/bin/env bash
# Wharf against nginx on the same fixture, in one run, each pinned to its own core; prints the
# ratios (nginx = 1.00). Timings belong here, never in pass/fail tests.
#
# Usage: bench/compare-nginx.sh [run.sh options, e.g. --rounds 3 --scenarios a,c,e --duration 10]
# Needs wrk and nginx (installed from Debian's packages when missing).
# The fixture lives in /tmp/wharf-bench-fixture (override: WHARF_BENCH_FIXTURE): it must be
# readable by nginx's worker user (nobody), which a folder under /root is not.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"

ensure_rust
ensure_debian_packages wrk nginx-light curl
cargo build --release -p wharf-core --bin wharf
wharf="$CARGO_TARGET_DIR/release/wharf"

fixture=${WHARF_BENCH_FIXTURE:-/tmp/wharf-bench-fixture}
[[ -f $fixture/10m.bin && -d $fixture/dir1000 ]] || (umask 022 && bench/harness/make-fixture.sh "$fixture")

out="bench-out/$(date -u +%Y%m%d-%H%M%S)"
bench/harness/run.sh --root "$fixture" --out "$out" \
  --server "nginx={HERE}/servers/nginx.sh {ROOT} {PORT} {TMP}" \
  --server "wharf=$wharf serve {ROOT} --port {PORT}" \
  "$@"
echo "report: $out/results.md"
