#!/usr/bin/env bash
# Is wrk, not the server, the limit? Runs nginx, Wharf and hyper-mem (the harness's reference
# server: hyper answering from memory, no file work at all) in one run, then prints for each
# its req/s and its req/s per second of its own CPU, both as ratios to nginx.
#
# When the client core sits at 100 % and all three land on the same req/s, wrk is the ceiling
# and the req/s ratio says nothing about the servers; the CPU ratio still does. Scenario e
# (`Connection: close`, a new TCP connection per request) is the one this is for: on loopback
# the client's core also carries the kernel's work for its side of every handshake and close.
#
# Usage: bench/client-ceiling.sh [run.sh options; default --rounds 5 --scenarios e]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

out="bench-out/ceiling-$(date -u +%Y%m%d-%H%M%S)"
bench/harness/run.sh --root "$fixture" --out "$out" --rounds 5 --scenarios e \
  --server "nginx={HERE}/servers/nginx.sh {ROOT} {PORT} {TMP}" \
  --server "wharf=$wharf serve {ROOT} --port {PORT}" \
  --server "hyper-mem=$hyper_mem {ROOT} {PORT}" \
  "$@"

python3 - "$out/results.csv" <<'PY'
import csv, statistics, sys
from collections import defaultdict

runs = defaultdict(list)
for row in csv.DictReader(open(sys.argv[1])):
    if row["valid"] == "yes":
        runs[(row["scenario"], row["server"])].append(row)

def median(rows, key):
    return statistics.median(float(row[key]) for row in rows)

def per_cpu(rows):
    """req/s per second of server CPU; per round, so a round's req/s goes with its CPU."""
    return statistics.median(float(r["req_per_s"]) / (float(r["server_cpu_pct"]) / 100) for r in rows)

print("\n| scenario | server | req/s | ÷ nginx | server CPU % | req per CPU-second | ÷ nginx | client core % |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for scenario in sorted({s for s, _ in runs}):
    base = runs.get((scenario, "nginx"))
    if not base:
        continue
    for server in ("nginx", "wharf", "hyper-mem"):
        rows = runs.get((scenario, server))
        if not rows:
            continue
        rps, cpu = median(rows, "req_per_s"), per_cpu(rows)
        print(f"| {scenario} | {server} | {rps:.0f} | {rps / median(base, 'req_per_s'):.2f} | "
              f"{median(rows, 'server_cpu_pct'):.0f} | {cpu:.0f} | {cpu / per_cpu(base):.2f} | "
              f"{median(rows, 'client_core_busy_pct'):.0f} |")
PY
echo "report: $out/results.md"
