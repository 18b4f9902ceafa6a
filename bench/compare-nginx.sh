#!/usr/bin/env bash
# Wharf against nginx and against hyper-mem (bare hyper answering from memory: the ceiling of the
# stack Wharf is built on) in one run, each pinned to its own core, with Wharf both without and
# with the durable access log (`--log-dir`, as the desktop app always runs). After the harness's
# report (ratios to nginx), prints Wharf's ratios to both nginx and hyper-mem per scenario.
# Ratios to nginx move between machines; the ratio to the ceiling, measured in the same run,
# travels. Timings belong here, never in pass/fail tests.
#
# Usage: bench/compare-nginx.sh [run.sh options, e.g. --rounds 5 --scenarios a,c,e --duration 10]
# Needs wrk and nginx (installed from Debian's packages when missing; see bench/prepare.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

out="bench-out/$(date -u +%Y%m%d-%H%M%S)"
bench/harness/run.sh --root "$fixture" --out "$out" \
  --server "nginx={HERE}/servers/nginx.sh {ROOT} {PORT} {TMP}" \
  --server "hyper-mem=$hyper_mem {ROOT} {PORT}" \
  --server "wharf=$wharf serve {ROOT} --port {PORT}" \
  --server "wharf-log=$wharf serve {ROOT} --port {PORT} --log-dir {TMP}/log" \
  "$@"

python3 - "$out/results.csv" <<'PY' | tee -a "$out/results.md"
import csv, statistics, sys
from collections import defaultdict

rps, labels = defaultdict(list), {}
for row in csv.DictReader(open(sys.argv[1])):
    labels[row["scenario"]] = row["label"]
    if row["valid"] == "yes":
        rps[(row["scenario"], row["server"])].append(float(row["req_per_s"]))

def ratio(scenario, server, base):
    a, b = rps.get((scenario, server)), rps.get((scenario, base))
    return f"{statistics.median(a) / statistics.median(b):.2f}" if a and b else "n/a"

print("\n## Wharf's ratios (median req/s; wharf-log = with --log-dir; higher is better)\n")
print("| scenario | wharf ÷ nginx | wharf ÷ hyper-mem | wharf-log ÷ nginx | wharf-log ÷ hyper-mem |")
print("|---|---:|---:|---:|---:|")
for s in sorted(labels):
    cells = [ratio(s, server, base) for server in ("wharf", "wharf-log") for base in ("nginx", "hyper-mem")]
    print(f"| {s}: {labels[s]} | " + " | ".join(cells) + " |")
PY
echo
echo "Access log of each wharf-log run (requests, lost, and the writer's CPU per request):"
for log in "$out"/logs/wharf-log-*.server.log; do
  echo "  $(basename "$log" .server.log): $(grep -h '^access log:' "$log" | sed 's/^access log: //' | paste -sd ';' - | sed 's/;/; /g')"
done
echo "report: $out/results.md"
