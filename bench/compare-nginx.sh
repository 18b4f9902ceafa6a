#!/usr/bin/env bash
# Wharf against nginx on the same fixture, in one run, each pinned to its own core; prints the
# ratios (nginx = 1.00). Timings belong here, never in pass/fail tests.
#
# Usage: bench/compare-nginx.sh [run.sh options, e.g. --rounds 3 --scenarios a,c,e --duration 10]
# Needs wrk and nginx (installed from Debian's packages when missing; see bench/prepare.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

out="bench-out/$(date -u +%Y%m%d-%H%M%S)"
bench/harness/run.sh --root "$fixture" --out "$out" \
  --server "nginx={HERE}/servers/nginx.sh {ROOT} {PORT} {TMP}" \
  --server "wharf=$wharf serve {ROOT} --port {PORT}" \
  "$@"
echo "report: $out/results.md"
