#!/usr/bin/env bash
# What the durable access log costs, and proof that it loses nothing at top speed: nginx,
# wharf, and wharf writing every request to a log directory, in one run. Afterwards each
# logged run's server log must say "0 lost".
#
# Usage: bench/access-log.sh [run.sh options, e.g. --rounds 3 --scenarios a,b]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

out="bench-out/access-log-$(date -u +%Y%m%d-%H%M%S)"
bench/harness/run.sh --root "$fixture" --out "$out" --scenarios a,b,e \
  --server "nginx={HERE}/servers/nginx.sh {ROOT} {PORT} {TMP}" \
  --server "wharf=$wharf serve {ROOT} --port {PORT}" \
  --server "wharf-logged=$wharf serve {ROOT} --port {PORT} --log-dir {TMP}/access-log" \
  "$@"

echo
echo "Access log of each logged run (requests recorded, lost):"
status=0
for log in "$out"/logs/wharf-logged-*.server.log; do
  summary=$(grep -h '^access log: .* lost$' "$log" || true)
  cost=$(grep -h '^access log: the writer used' "$log" | sed 's/^access log: //' || true)
  echo "  $(basename "$log" .server.log): ${summary:-NO SUMMARY}${cost:+ ($cost)}"
  [[ $summary == *", 0 lost" ]] || status=1
done
echo "report: $out/results.md"
exit $status
